"""Trainer callback: a progress bar with loss and ETA.

On a terminal the bar is a rich progress bar; elsewhere (CI logs, a background run
written to a file) each logged step becomes one plain line with the same fields, so a
long run can be followed with `tail -f`.
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments


class ProgressCallback(TrainerCallback):
    """Shows step / total, the last logged loss, elapsed time and the time remaining."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._progress: Progress | None = None
        self._task: Any = None
        self._started = 0.0
        self._first_step = 0

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> None:
        self._started = time.monotonic()
        self._first_step = state.global_step
        if self.console.is_terminal:
            self._progress = Progress(
                TextColumn("[bold]training"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]}"),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                console=self.console,
            )
            self._progress.start()
            self._task = self._progress.add_task("train", total=state.max_steps, completed=state.global_step, loss="-")
        else:
            resumed = f" (resuming at step {state.global_step})" if state.global_step else ""
            self.console.print(f"training: {state.max_steps} steps{resumed}", highlight=False)

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=state.global_step)

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        if not logs or "loss" not in logs:
            return
        loss = f"{logs['loss']:.4f}"
        if self._progress is not None:
            self._progress.update(self._task, loss=loss)
            return
        done = state.global_step - self._first_step
        elapsed = time.monotonic() - self._started
        remaining = (state.max_steps - state.global_step) * elapsed / done if done else float("nan")
        self.console.print(
            f"step {state.global_step}/{state.max_steps} loss {loss} elapsed {elapsed:.0f}s eta {remaining:.0f}s",
            highlight=False,
        )

    def on_train_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

