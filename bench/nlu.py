"""NLU benchmarks (issue #2 targets), printed as figures.

    python -m bench.nlu               the chosen pipeline (nlu_data/config.yml): training
                                      from scratch, service ready time, memory, accuracy on
                                      the held-out files (overall and per group of matters),
                                      parse latency through the bot's client, and a bot
                                      worker's ready time
    python -m bench.nlu --pipelines   the same for every config in bench/pipelines/ too

Targets: intent ≥ 95 %, matter ≥ 95 %, top-3 ≥ 99 %; parse p50 ≤ 5 ms, p99 ≤ 10 ms; NLU
service ready ≤ 10 s; bot worker ready ≤ 2 s; training from scratch ≤ 5 min on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.common import percentile
from bot.catalogue.loader import load_catalogue
from bot.config import ROOT, Secret, Settings
from bot.nlu.evaluate import HeldoutCase, evaluate, load_heldout
from bot.nlu.matters import MatterResolver
from bot.nlu.runtime import free_port
from bot.nlu.service import NluProcess
from bot.nlu.training import build_training_input, train
from bot.nlu.understand import Understanding
from integrations.rasa import RasaClient

# The first 30 matters' questions, and the frozen questions about the matters added later.
HELDOUT = (ROOT / "tests" / "nlu" / "heldout.tsv",
           ROOT / "tests" / "nlu" / "heldout_new_matters.tsv")


def heldout() -> list[HeldoutCase]:
    return [case for path in HELDOUT for case in load_heldout(path)]
LATENCY_ROUNDS = 3  # each held-out question this many times


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0



async def measure_service(settings: Settings, model: Path) -> dict[str, float]:
    process = NluProcess(settings.nlu_python, model, free_port(), settings.nlu_token,
                         settings.nlu_log)
    await process.start()
    try:
        assert process.process is not None
        remote = dataclasses.replace(settings, nlu_url=process.url)
        cases = heldout()
        report = await evaluate(remote, cases)
        resolver = MatterResolver(load_catalogue(settings.catalogue_dir))
        latencies = []
        async with aiohttp.ClientSession() as session:
            understanding = Understanding(RasaClient(session, process.url, settings.nlu_token),
                                          resolver)
            for _ in range(LATENCY_ROUNDS):
                for case in cases:
                    started = time.perf_counter()
                    await understanding.understand(case.text)
                    latencies.append((time.perf_counter() - started) * 1000)
        return {
            "ready_s": process.ready_seconds or 0.0,
            "rss_mib": rss_mib(process.process.pid),
            "intent_acc": report.intent_accuracy,
            "matter_acc": report.matter_accuracy,
            "matter_top3": report.matter_top3_accuracy,
            "p50_ms": statistics.median(latencies),
            "p99_ms": percentile(latencies, 0.99),
            **{f"group {name}": group.accuracy for name, group in report.per_group.items()},
        }
    finally:
        await process.stop()


def train_config(settings: Settings, config: Path, workdir: Path) -> tuple[Path, float]:
    training = build_training_input(load_catalogue(settings.catalogue_dir),
                                    settings.nlu_data_dir, workdir / "build",
                                    settings.nlu_python, config)
    started = time.perf_counter()
    model = train(training, workdir / "models", settings.nlu_python, force=True, quiet=True)
    return model, time.perf_counter() - started


def worker_ready_seconds(settings: Settings, nlu_url: str) -> float:
    """Start `bot serve` against a running NLU service; time until /healthz answers."""
    port = free_port()
    env = dict(os.environ, NLU_URL=nlu_url, NLU_TOKEN=str(settings.nlu_token))
    started = time.perf_counter()
    worker = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - started < 30:
            try:
                import urllib.request

                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    return time.perf_counter() - started
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("worker did not become ready in 30 s")
    finally:
        worker.terminate()
        worker.wait(10)


async def worker_ready(settings: Settings, model: Path) -> float:
    process = NluProcess(settings.nlu_python, model, free_port(), settings.nlu_token,
                         settings.nlu_log)
    await process.start()
    try:
        return await asyncio.to_thread(worker_ready_seconds, settings, process.url)
    finally:
        await process.stop()


def print_row(name: str, train_s: float, figures: dict[str, float]) -> None:
    print(f"{name:<22} train {train_s:6.1f} s | ready {figures['ready_s']:5.1f} s | "
          f"RSS {figures['rss_mib']:6.0f} MiB | intent {figures['intent_acc']:6.1%} | "
          f"matter {figures['matter_acc']:6.1%} | top-3 {figures['matter_top3']:6.1%} | "
          f"parse p50 {figures['p50_ms']:5.1f} ms p99 {figures['p99_ms']:5.1f} ms", flush=True)
    groups = sorted(key for key in figures if key.startswith("group "))
    if groups:  # matter accuracy per group of matters (公安, 民政…)
        print(" " * 23 + " | ".join(f"{key[6:]} {figures[key]:.0%}" for key in groups),
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pipelines", action="store_true",
                        help="also measure every config in bench/pipelines/")
    args = parser.parse_args()
    settings = dataclasses.replace(Settings.from_env(), nlu_url=None,
                                   nlu_token=Secret("bench-token"))
    configs = [("chosen (nlu_data)", settings.nlu_data_dir / "config.yml")]
    if args.pipelines:
        configs += [(p.stem, p) for p in sorted((ROOT / "bench" / "pipelines").glob("*.yml"))]
    print(f"NLU benchmark: {len(heldout())} held-out questions, "
          f"{os.cpu_count()} CPUs", flush=True)
    chosen_model = None
    with tempfile.TemporaryDirectory() as tmp:
        for index, (name, config) in enumerate(configs):
            workdir = Path(tmp) / str(index)
            try:
                model, train_s = train_config(settings, config, workdir)
            except subprocess.CalledProcessError:
                print(f"{name:<22} training failed (Rasa's message above)", flush=True)
                continue
            chosen_model = chosen_model or model
            print_row(name, train_s, asyncio.run(measure_service(settings, model)))
        assert chosen_model is not None
        ready = asyncio.run(worker_ready(settings, chosen_model))
        print(f"bot worker ready (NLU service up): {ready:.2f} s")


if __name__ == "__main__":
    main()
