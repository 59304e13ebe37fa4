"""Risk assessment throughput on one core, for a realistic mix of messages.

    python bench/risk.py [--seconds 5] [--history 8] [--seed 0]

The mix, per 100 messages: 85 short everyday messages (the none-labelled messages of
the written sets), 10 short risky messages (the others) and 5 long posts (counsel-chat
questions, about 460 characters). Messages are replayed as sessions of 20, and each is
assessed as the conversation manager does it: `assess(text, previous messages, locale)`
with up to `--history` earlier messages of its session. Every message text is made
unique, so the memo of earlier messages helps only as it does in production (the
history), never the message being assessed.

Printed: messages/s for the mix and the ratio to the 2,000/s target, then the same for
short messages alone, long posts alone and with no history. One process, one thread,
pinned to one CPU where the OS allows it. The rate is per second of this process's CPU
time (what one core delivers); the wall-clock rate is printed beside it and is lower
when other processes share the core. Exit status 1 when the mix is under target.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.safety.risk import assess  # noqa: E402

TARGET = 2000.0
DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "safety"
WRITTEN = ("labelled_en.jsonl", "labelled_fr.jsonl", "labelled_es.jsonl", "holdout.jsonl", "holdout2.jsonl", "holdout3.jsonl")
SESSION_LENGTH = 20


@dataclass(frozen=True)
class Config:
    seconds: float
    history: int
    seed: int


def _rows(name: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def _pools() -> tuple[list[str], list[str], list[str]]:
    written = [row for name in WRITTEN for row in _rows(name)]
    everyday = [str(row["text"]) for row in written if row["level"] == "none"]
    risky = [str(row["text"]) for row in written if row["level"] != "none"]
    long = [str(row["text"]) for row in _rows("counsel_chat_labelled.jsonl")]
    return everyday, risky, long


def _mix(rng: random.Random, count: int, everyday: list[str], risky: list[str], long: list[str]) -> list[str]:
    pools = [(weight, pool) for weight, pool in ((85, everyday), (10, risky), (5, long)) if pool]
    weights = [weight for weight, _ in pools]
    return [rng.choice(rng.choices([pool for _, pool in pools], weights)[0]) for _ in range(count)]


@dataclass(frozen=True)
class Rate:
    cpu: float  # messages per CPU second of this process: the one-core figure
    wall: float  # messages per wall-clock second (lower when other processes share the CPU)


def measure(messages: Sequence[str], history: int, seconds: float) -> Rate:
    """Messages per second, assessing in sessions of SESSION_LENGTH with `history` context."""
    done = 0
    start = time.perf_counter()
    cpu_start = time.process_time()
    deadline = start + seconds
    round_number = 0
    while time.perf_counter() < deadline:
        # fresh texts each round: the message being assessed is never memoised
        batch = [f"{text} {round_number}-{index}" for index, text in enumerate(messages)]
        round_number += 1
        for index, text in enumerate(batch):
            session_start = index - index % SESSION_LENGTH
            earlier = batch[max(session_start, index - history) : index]
            assess(text, earlier, "en")
            done += 1
    return Rate(done / (time.process_time() - cpu_start), done / (time.perf_counter() - start))


def main(config: Config) -> int:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    rng = random.Random(config.seed)
    everyday, risky, long = _pools()
    mix = _mix(rng, 2000, everyday, risky, long)
    short = _mix(rng, 2000, everyday, risky, [])
    runs: list[tuple[str, Callable[[], Rate]]] = [
        (f"mix (85% everyday, 10% risky, 5% long), history {config.history}", lambda: measure(mix, config.history, config.seconds)),
        (f"short messages only, history {config.history}", lambda: measure(short, config.history, config.seconds / 2)),
        (f"long posts only, history {config.history}", lambda: measure(long, config.history, config.seconds / 2)),
        ("mix, no history", lambda: measure(mix, 0, config.seconds / 2)),
    ]
    measure(mix[:200], config.history, 0.5)  # warm-up: imports, regex caches
    results = []
    for name, run in runs:
        rate = run()
        results.append(rate)
        print(
            f"{name}: {rate.cpu:,.0f} messages/s of CPU time ({rate.cpu / TARGET:.2f}x the {TARGET:,.0f}/s target); "
            f"wall clock {rate.wall:,.0f}/s"
        )
    return 0 if results[0].cpu >= TARGET else 1


def _parse(argv: Sequence[str]) -> Config:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="time spent on the mix (others get half)")
    parser.add_argument("--history", type=int, default=8, help="earlier messages passed as history (the manager passes 8)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.history < 0:
        parser.error("--seconds must be positive and --history not negative")
    return Config(seconds=args.seconds, history=args.history, seed=args.seed)


if __name__ == "__main__":
    sys.exit(main(_parse(sys.argv[1:])))
