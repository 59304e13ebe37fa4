"""Model worker benchmark: batching, queue overhead and the CPU path, measured in one process.

    python bench/worker.py                         # the default model from MODEL_CACHE_DIR
    python bench/worker.py --model PATH --tokens 32 --backends local
    python bench/worker.py --levers                # also batch-1 tokens/s of each CPU lever
    python bench/worker.py --conversations         # also multi-turn: llama.cpp KV streams kept vs not
    python bench/worker.py --threads-compare       # also llama.cpp threads tuned vs pinned, with a busy neighbour

Prints, for each backend (llama.cpp when installed, transformers):
  1. 8 concurrent counseling requests through the worker with batching against the same
     requests through the same worker with max_batch=1: throughput ratio, p50/p95 latency
     (greedy, so both generate the same tokens; the token totals are printed to show it);
  2. the worker at batch 1 against a plain loop over the same model (the queue's overhead);
and then the chosen CPU path's batch-1 tokens/s against plain float32 `generate`.
Targets (issue 9): batched/sequential >= 3 at 8 concurrent, overhead <= 5 %, CPU path >= 4x.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import load_settings  # noqa: E402
from bot.core.ports import ChatTurn, GenerationRequest, Role  # noqa: E402
from model import llamacpp  # noqa: E402
from model.backend import Backend, Completion, RenderedPrompt  # noqa: E402
from model.default import default_gguf_path, require_default, shipped_gguf_path  # noqa: E402
from model.llamacpp import LlamaCppBackend, LlamaCppOptions  # noqa: E402
from model.local import Dtype, LocalBackend, LocalOptions  # noqa: E402
from model.threads import candidates  # noqa: E402
from model.worker import Worker, WorkerOptions  # noqa: E402

PROMPTS = [
    "I've been feeling anxious about my new job and I can't sleep at night. What can I do?",
    "My partner and I argue about everything lately and I feel like giving up on us.",
    "Since I moved to a new city for work I feel lonely and I don't know how to make friends.",
    "My mother died three months ago and I still cry every day. Is that normal?",
    "I failed an important exam and my parents are disappointed in me. I feel worthless.",
    "I get panic attacks on the bus and now I'm scared to go to school.",
    "My best friend stopped answering my messages and I keep wondering what I did wrong.",
    "I think I drink too much on weekends to cope with stress. How do I cut down?",
]


@dataclass(frozen=True)
class Config:
    model: Path | None  # a transformers folder; None: the default model in MODEL_CACHE_DIR
    gguf: Path | None
    tokens: int
    concurrency: int
    backends: tuple[str, ...]
    levers: bool
    compile: bool
    threads: int | None
    rounds: int
    batch_threads: int | None
    conversations: bool
    torch_threads: int | None
    threads_compare: bool


@dataclass(frozen=True)
class Run:
    wall_s: float
    tokens: int
    latencies: list[float]

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.wall_s

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# Every round asks new questions (the same ones with another opening), so a backend that
# keeps each conversation's KV cache (llama.cpp) reuses the system prompt, never a reply.
OPENINGS = ["", "Hi. ", "Hello. ", "Sorry to bother you. ", "I need to talk. ", "Can I ask something? ",
            "It's late and I can't stop thinking. ", "I'm not sure where to start. "]


def _prompts(config: Config, round_index: int) -> list[str]:
    opening = OPENINGS[round_index % len(OPENINGS)]
    return [opening + text for text in (PROMPTS * (config.concurrency // len(PROMPTS) + 1))[: config.concurrency]]


def _request(index: int, text: str) -> GenerationRequest:
    return GenerationRequest(f"bench-{index}", f"bench-{index}", (ChatTurn(Role.USER, text),), time.monotonic() + 3600)


async def _concurrent(worker: Worker, prompts: Sequence[str]) -> Run:
    started = time.perf_counter()

    async def one(index: int, text: str) -> tuple[float, int]:
        completion = await worker.complete(_request(index, text))
        return time.perf_counter() - started, completion.tokens

    results = await asyncio.gather(*(one(i, t) for i, t in enumerate(prompts)))
    return Run(time.perf_counter() - started, sum(t for _, t in results), [lat for lat, _ in results])


def _batching_worker(backend: Backend, config: Config) -> Worker:
    """The worker as served: batches of up to `concurrency` requests, collected for 20 ms."""
    return Worker(backend, WorkerOptions(max_batch=config.concurrency, batch_window_ms=20, max_new_tokens=config.tokens))


def _merge(runs: Sequence[Run]) -> Run:
    return Run(sum(r.wall_s for r in runs), sum(r.tokens for r in runs), [x for r in runs for x in r.latencies])


class _Timer:
    """Accumulates one measured variant of the interleaved batch-1 comparison."""

    def __init__(self) -> None:
        self.wall, self.tokens = 0.0, 0
        self.latencies: list[float] = []

    def add(self, seconds: float, tokens: int) -> None:
        self.wall += seconds
        self.tokens += tokens
        self.latencies.append(seconds)

    def run(self) -> Run:
        return Run(self.wall, self.tokens, self.latencies)


def _plain_generate(model_dir: Path, threads: int) -> Callable[[RenderedPrompt], int]:
    """`model.generate` on one prompt, greedy, float32, as a script would call it; returns new
    tokens. Its own copy of the weights: the backend's model serves a continuous-batching
    manager (paged attention) and is not for plain `generate`."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)

    def run(prompt: RenderedPrompt) -> int:
        ids = torch.tensor([list(prompt.token_ids)])
        backend_threads = torch.get_num_threads()
        torch.set_num_threads(threads)
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=prompt.max_new_tokens,
                                 do_sample=False, pad_token_id=tokenizer.pad_token_id)
        torch.set_num_threads(backend_threads)
        new = out[0, ids.shape[1]:].tolist()
        return next((i for i, t in enumerate(new) if t == tokenizer.eos_token_id), len(new))

    return run


def _line(label: str, run: Run) -> str:
    return (f"  {label:<34} {run.wall_s:7.2f} s  {run.tokens:5d} tok  {run.tokens_per_s:7.1f} tok/s  "
            f"p50 {run.pct(0.5):6.2f} s  p95 {run.pct(0.95):6.2f} s")


async def _bench_backend(name: str, make: Callable[[int], Backend], config: Config, model_dir: Path,
                         plain: Callable[[RenderedPrompt], int] | None) -> dict[str, Run]:
    """Rounds alternate between the variants so load that comes and goes on a shared
    machine hits all of them alike."""
    print(f"\n== {name}: {config.concurrency} concurrent requests, {config.tokens} new tokens max, greedy, "
          f"{config.rounds} interleaved rounds")
    batched_backend, sequential_backend = make(config.concurrency), make(1)
    batched = _batching_worker(batched_backend, config)
    sequential = Worker(sequential_backend, WorkerOptions(max_batch=1, batch_window_ms=0, max_new_tokens=config.tokens))
    async with batched, sequential:
        await _concurrent(batched, _prompts(config, 0))  # warm-up (first-call allocations)
        await _concurrent(sequential, _prompts(config, 0)[:1])
        rounds: dict[str, list[Run]] = {"batched": [], "sequential": []}
        for index in range(1, config.rounds + 1):
            rounds["batched"].append(await _concurrent(batched, _prompts(config, index)))
            rounds["sequential"].append(await _concurrent(sequential, _prompts(config, index)))
        runs = {key: _merge(value) for key, value in rounds.items()}
        prompts = _prompts(config, config.rounds + 1)

        rendered = [sequential_backend.render(_request(i, t), config.tokens) for i, t in enumerate(prompts)]
        timers = {"worker_b1": _Timer(), "direct_b1": _Timer(), "plain_b1": _Timer()}
        if plain is not None:
            plain(rendered[0])  # warm-up
        # The direct call takes another prompt than the worker call just before it: a
        # backend that reuses the KV cache of a shared prefix (llama.cpp) must not get the
        # whole prompt for free. Over the loop both see every prompt once.
        half = len(prompts) // 2
        for index, text in enumerate(prompts):
            begun = time.perf_counter()
            tokens = (await sequential.complete(_request(index, text))).tokens
            timers["worker_b1"].add(time.perf_counter() - begun, tokens)
            prompt = rendered[(index + half) % len(prompts)]
            begun = time.perf_counter()
            tokens = (await asyncio.to_thread(sequential_backend.generate_batch, [prompt]))[0].tokens
            timers["direct_b1"].add(time.perf_counter() - begun, tokens)
            if plain is not None:
                begun = time.perf_counter()
                tokens = await asyncio.to_thread(plain, prompt)
                timers["plain_b1"].add(time.perf_counter() - begun, tokens)
        runs.update({key: timer.run() for key, timer in timers.items() if timer.tokens})

    b, s = runs["batched"], runs["sequential"]
    print(_line(f"worker, max_batch={config.concurrency}", b))
    print(_line("worker, max_batch=1", s))
    print(f"  throughput batched/sequential: {b.tokens_per_s / s.tokens_per_s:.2f}x "
          f"(tokens {b.tokens} vs {s.tokens}; target >= 3)")
    w, d = runs["worker_b1"], runs["direct_b1"]
    print(_line("worker, one request at a time", w))
    print(_line("backend called directly, same", d))
    print(f"  queue overhead at batch 1 (worker vs direct): {100 * (w.wall_s / d.wall_s - 1):+.1f} % (target <= 5 %)")
    if "plain_b1" in runs:
        p = runs["plain_b1"]
        print(_line("plain model.generate loop, float32", p))
        print(f"  worker at batch 1 vs plain generate loop: {100 * (w.wall_s / p.wall_s - 1):+.1f} % time "
              f"({w.tokens_per_s / p.tokens_per_s:.2f}x tokens/s; target overhead <= 5 %)")
    return runs


FOLLOW_UPS = ["Thank you. What could I try tonight?", "I tried that before and it didn't help much. Anything else?"]


class _ForgetfulBackend(LlamaCppBackend):
    """The alternative: the same backend, but nothing is kept between batches (each
    batch still evaluates its shared system prompt once)."""

    def generate_batch(self, prompts: Sequence[RenderedPrompt]) -> list[Completion]:
        self.streams.forget_all()
        return super().generate_batch(prompts)


async def _bench_conversations(options: LlamaCppOptions, config: Config) -> None:
    """Conversations of several turns, every user's next message at once: KV streams kept
    between turns against streams forgotten, alternating turn by turn."""
    turns = len(FOLLOW_UPS) + 1
    print(f"\n== llama.cpp: {config.concurrency} conversations x {turns} turns, {config.tokens} new tokens max, "
          "every user's next message at the same time")
    variants = {"kept": LlamaCppBackend(options), "forgotten": _ForgetfulBackend(options)}
    workers = {name: _batching_worker(backend, config) for name, backend in variants.items()}
    histories = {name: [[ChatTurn(Role.USER, text)] for text in _prompts(config, 1)] for name in variants}
    walls: dict[str, list[float]] = {name: [] for name in variants}
    async with workers["kept"], workers["forgotten"]:
        await _concurrent(workers["kept"], _prompts(config, 0))  # warm-up
        await _concurrent(workers["forgotten"], _prompts(config, 0))
        for turn in range(turns):
            for name, worker in workers.items():
                begun = time.perf_counter()
                requests = [GenerationRequest(f"{name}-{turn}-{i}", f"{name}-{i}", tuple(h), time.monotonic() + 3600)
                            for i, h in enumerate(histories[name])]
                replies = await asyncio.gather(*(worker.complete(r) for r in requests))
                walls[name].append(time.perf_counter() - begun)
                for history, reply in zip(histories[name], replies, strict=True):
                    history.append(ChatTurn(Role.ASSISTANT, reply.text))
                    if turn < len(FOLLOW_UPS):
                        history.append(ChatTurn(Role.USER, FOLLOW_UPS[turn]))
    for turn in range(turns):
        kept, forgotten = walls["kept"][turn], walls["forgotten"][turn]
        print(f"  turn {turn + 1}: streams kept {kept:6.2f} s, forgotten {forgotten:6.2f} s: {forgotten / kept:.2f}x")
    later_kept, later_forgotten = sum(walls["kept"][1:]), sum(walls["forgotten"][1:])
    print(f"  turns 2-{turns}: kept {later_kept:.2f} s vs forgotten {later_forgotten:.2f} s: "
          f"{later_forgotten / later_kept:.2f}x faster with the streams kept")


NEIGHBOUR = "while True: pass"  # a CPU-bound process on one core: another service, a build


async def _bench_threads(base: LlamaCppOptions, config: Config) -> None:
    """llama.cpp's thread counts chosen by the tuner against each candidate pinned, on the
    machine as it is and beside a CPU-bound process, variants alternating round by round."""
    counts = candidates()
    variants = {"tuned (default)": (None, None)} | {f"pinned {n}": (n, n) for n in counts}
    backends = {name: LlamaCppBackend(replace(base, threads=t, batch_threads=b)) for name, (t, b) in variants.items()}
    workers = {name: _batching_worker(backend, config) for name, backend in backends.items()}
    conditions = ("as is", "busy neighbour")
    print(f"\n== llama.cpp threads: tuned vs pinned ({'/'.join(map(str, counts))}), {config.concurrency} requests at "
          f"once and 1 alone, {config.tokens} new tokens max, {config.rounds} interleaved rounds")
    runs: dict[tuple[str, str, str], list[Run]] = {}
    async with AsyncExitStack() as stack:
        for worker in workers.values():
            await stack.enter_async_context(worker)
            await _concurrent(worker, _prompts(config, 0))  # warm-up
        for c, condition in enumerate(conditions):
            neighbour = subprocess.Popen([sys.executable, "-c", NEIGHBOUR]) if condition == "busy neighbour" else None
            try:
                for r in range(config.rounds):
                    prompts = _prompts(config, 1 + c * config.rounds + r)
                    for name, worker in workers.items():
                        runs.setdefault((condition, name, "batch"), []).append(await _concurrent(worker, prompts))
                        runs.setdefault((condition, name, "alone"), []).append(await _concurrent(worker, prompts[-1:]))
            finally:
                if neighbour is not None:
                    neighbour.kill()
                    neighbour.wait()
    speed = {key: _merge(value).tokens_per_s for key, value in runs.items()}
    print(f"  {'tok/s':<18}" + "".join(f"{f'{c}: {config.concurrency} at once':>26}{'1 alone':>10}" for c in conditions))
    for name in variants:
        print(f"  {name:<18}" + "".join(f"{speed[c, name, 'batch']:26.1f}{speed[c, name, 'alone']:10.1f}"
                                        for c in conditions))
    for condition in conditions:
        for kind in ("batch", "alone"):
            best = max(speed[condition, name, kind] for name in variants if name.startswith("pinned"))
            print(f"  tuned vs the best pinned count, {condition}, {kind}: {speed[condition, 'tuned (default)', kind] / best:.2f}x")
    print(f"  the tuner's choices (tokens, sequences) -> threads: {backends['tuned (default)'].threads_preferred}")


def _levers(model_dir: Path, gguf: Path | None, cache_dir: Path, config: Config, threads: int) -> None:
    """Batch-1 tokens/s of each CPU lever on the same prompts, and whether the text matches float32."""
    import warnings

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer: Any = AutoTokenizer.from_pretrained(model_dir)
    prompts = PROMPTS[:4]
    ids = [tokenizer.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True,
                                         return_tensors="pt", return_dict=True)["input_ids"] for p in prompts]

    def measure(model: Any, length: int = config.tokens, **kwargs: Any) -> tuple[float, list[list[int]]]:
        if length > 2:
            measure(model, length=2, **kwargs)  # warm-up: first-call allocations
        outputs, tokens, started = [], 0, time.perf_counter()
        for x in ids:
            with torch.no_grad():
                out = model.generate(x, max_new_tokens=length, min_new_tokens=length, do_sample=False,
                                     pad_token_id=tokenizer.pad_token_id, **kwargs)
            outputs.append(out[0, x.shape[1]:].tolist())
            tokens += len(outputs[-1])
        return tokens / (time.perf_counter() - started), outputs

    def load(dtype: Any = torch.float32) -> Any:
        return AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype).eval()

    print(f"\n== CPU levers: batch 1, {len(prompts)} prompts x {config.tokens} tokens (forced), same process")
    torch.set_num_threads(threads)  # torch's default (a backend may have changed it)
    base = load()
    ref_speed, ref = measure(base)
    rows: list[tuple[str, float, list[Any]]] = [(f"float32 (plain generate, {threads} threads)", ref_speed, ref)]
    torch.set_num_threads(1)
    rows.append(("float32, 1 thread", *measure(base)))
    torch.set_num_threads(threads)
    rows.append(("float32, static KV cache", *measure(base, cache_implementation="static")))
    rows.append(("bfloat16", *measure(load(torch.bfloat16))))
    torch.set_num_threads(1)
    rows.append(("bfloat16, 1 thread", *measure(load(torch.bfloat16))))
    torch.set_num_threads(threads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.ao.quantization import quantize_dynamic

        rows.append(("int8 dynamic (Linear)", *measure(quantize_dynamic(load(), {torch.nn.Linear}, dtype=torch.qint8))))
    if config.compile:
        compiled = load()
        compiled.forward = torch.compile(compiled.forward, mode="reduce-overhead")
        started = time.perf_counter()
        measure(compiled, cache_implementation="static")
        print(f"  (torch.compile warm-up: {time.perf_counter() - started:.0f} s)")
        rows.append(("torch.compile + static cache", *measure(compiled, cache_implementation="static")))
    files = {f for f in (gguf, shipped_gguf_path(cache_dir)) if f is not None and f.is_file()}
    for file in sorted(files) if llamacpp.available() else []:
        backend = LlamaCppBackend(LlamaCppOptions(gguf=file, tokenizer_dir=model_dir, max_batch=1,
                                                  max_new_tokens=config.tokens))
        backend.load()
        rendered = [RenderedPrompt((), "", tuple(x[0].tolist()), config.tokens) for x in ids]
        backend.generate_batch(rendered[:1])
        started = time.perf_counter()
        completions = [backend.generate_batch([prompt])[0] for prompt in rendered]
        speed = sum(c.tokens for c in completions) / (time.perf_counter() - started)
        rows.append((f"llama.cpp ({file.name}), greedy", speed, [c.text for c in completions]))
        backend.close()
    reference = [tokenizer.decode(r, skip_special_tokens=True).strip() for r in ref]
    for label, speed, outputs in rows:
        texts = [o if isinstance(o, str) else tokenizer.decode(o, skip_special_tokens=True).strip() for o in outputs]
        # Forced-length runs may go past the end of turn; compare up to the shorter one.
        same = sum(a.startswith(b) or b.startswith(a) for a, b in zip(texts, reference, strict=True))
        print(f"  {label:<34} {speed:7.1f} tok/s  {speed / ref_speed:5.2f}x  same text as float32: {same}/{len(ref)}")
        print(f"      first reply: {texts[0][:110]!r}")


async def main(config: Config) -> None:
    settings = load_settings()
    model_dir = config.model or require_default(settings.model_cache_dir)
    gguf = config.gguf or (default_gguf_path(settings.model_cache_dir) if config.model is None else None)
    import torch

    torch_threads = torch.get_num_threads()  # torch's default, before a backend changes it
    results: dict[str, dict[str, Run]] = {}
    plain = _plain_generate(Path(model_dir), torch_threads)
    if "llamacpp" in config.backends:
        if gguf is None or not llamacpp.available():
            print("\n== llama.cpp: skipped (llama-cpp-python not installed or no GGUF)")
        else:
            def options(batch: int) -> LlamaCppOptions:
                return LlamaCppOptions(gguf=gguf, tokenizer_dir=model_dir, max_batch=batch, max_new_tokens=config.tokens,
                                       history_token_budget=512, threads=config.threads,
                                       batch_threads=config.batch_threads)

            results["llamacpp"] = await _bench_backend(
                "llama.cpp", lambda batch: LlamaCppBackend(options(batch)), config, Path(model_dir), plain)
            if config.conversations:
                await _bench_conversations(options(config.concurrency), config)
            if config.threads_compare:
                await _bench_threads(options(config.concurrency), config)
    if "local" in config.backends:
        results["local"] = await _bench_backend("transformers float32", lambda batch: LocalBackend(LocalOptions(
            model=str(model_dir), dtype=Dtype.FLOAT32, history_token_budget=512, max_batch=batch,
            max_new_tokens=config.tokens, threads=config.torch_threads)), config, Path(model_dir), plain)
    if results:
        chosen = "llamacpp" if "llamacpp" in results else "local"
        fast, base = results[chosen]["worker_b1"], results[chosen]["plain_b1"]
        print(f"\n== CPU path ({'llama.cpp' if chosen == 'llamacpp' else 'transformers'}) at batch 1 through the "
              f"worker: {fast.tokens_per_s:.1f} tok/s vs plain float32 generate {base.tokens_per_s:.1f} tok/s "
              f"(interleaved): {fast.tokens_per_s / base.tokens_per_s:.2f}x (target >= 4); a 100-token reply in "
              f"~{100 / fast.tokens_per_s:.1f} s (target <= 5 s)")
    if config.levers:
        _levers(Path(model_dir), gguf, settings.model_cache_dir, config, torch_threads)


def _parse(argv: Sequence[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="a transformers model folder (default: the default model)")
    parser.add_argument("--gguf", type=Path, help="the GGUF for the llama.cpp backend (default: the default model's)")
    parser.add_argument("--tokens", type=int, default=32, help="max new tokens per request")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--backends", default="llamacpp,local", help="comma list: llamacpp, local")
    parser.add_argument("--levers", action="store_true", help="also measure each CPU lever at batch 1")
    parser.add_argument("--compile", action="store_true", help="with --levers: torch.compile too (minutes)")
    parser.add_argument("--threads", type=int, help="llama.cpp threads for one token (default: tuned)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds of the batched/sequential runs")
    parser.add_argument("--conversations", action="store_true",
                        help="llama.cpp: also multi-turn conversations, KV streams kept vs forgotten")
    parser.add_argument("--batch-threads", type=int, help="llama.cpp threads for prompts and batches (default: tuned)")
    parser.add_argument("--threads-compare", action="store_true",
                        help="llama.cpp: also tuned threads vs each count pinned, quiet and beside a busy process")
    parser.add_argument("--torch-threads", type=int, help="transformers backend threads (default: all cores but one)")
    args = parser.parse_args(argv)
    backends = tuple(b.strip() for b in args.backends.split(",") if b.strip())
    unknown = set(backends) - {"llamacpp", "local"}
    if unknown:
        parser.error(f"unknown backends: {', '.join(sorted(unknown))}")
    return Config(args.model, args.gguf, args.tokens, args.concurrency, backends, args.levers, args.compile,
                  args.threads, args.rounds, args.batch_threads, args.conversations, args.torch_threads,
                  args.threads_compare)


if __name__ == "__main__":
    asyncio.run(main(_parse()))
