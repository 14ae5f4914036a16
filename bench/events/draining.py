"""A draining queue: many watchers of queued jobs, then a worker starts and runs them in turn.

    .venv/bin/python -m bench.events --draining [--jobs 20] [--watchers-per-job 1,50]

For each number of watchers per job it starts one ASGI web process (as bench/events does for
pushed events), queues ``--jobs`` jobs of the local provider, opens that many event streams of
each (50 connecting at a time; one asyncio loop in the bench process) and waits until every
stream has sent its opening position. Then a worker starts (a process of its own, on the bench
settings): it runs the jobs in queue order through ``generation_run``, the worker's service
(claim, render on the local provider, store the image, complete). The bench measures:

- commit → watcher latency of the terminal events: the moment the worker publishes a job's
  ``completed`` event (right after its commit) against the moment each of that job's watchers
  reads it (CLOCK_MONOTONIC, one clock for both processes); p50/p99 over every watcher;
- database transactions per job: the bench database's committed and rolled back transactions
  in ``pg_stat_database`` from just before the worker starts until the backends have reported
  (11 s after the last terminal event), divided by the jobs: the worker's own (with its start)
  and every read the streams make while the queue drains;
- the queue positions the watchers were sent while it drained.

The goal: with 50 watchers per job, p99 <= 100 ms, and at most 1.3 times the transactions per
job of 1 watcher per job. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

os.environ.setdefault("BENCH_DB_NAME", "atelier_e_bench")
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")

from bench import harness  # noqa: E402

CONNECT_BATCH = 50
# pg_stat_database hears of a busy backend's transactions at most once a second, and of an idle
# one's within 10 s.
STATS_SETTLE_SECONDS = 11.0
TERMINAL = (b'"status":"completed"', b'"status":"failed"', b'"status":"cancelled"')


class QueueWatchers(harness.StreamReaders):
    """Event streams of queued jobs: when each one's opening position came, how many positions
    it was sent, and when its terminal status arrived."""

    def __init__(self, port: int, key: str, streams: list[str]):
        super().__init__(port, key)
        self.streams = streams
        self.opened: set[int] = set()
        self.positions: dict[int, int] = {}
        self.ended: dict[int, float] = {}

    def connect_all(self, timeout: float = 120.0) -> None:
        for start in range(0, len(self.streams), CONNECT_BATCH):
            batch = range(start, min(start + CONNECT_BATCH, len(self.streams)))
            for index in batch:
                asyncio.run_coroutine_threadsafe(self._spawn(index), self.loop).result(10)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and len(self.opened) + self.failed < batch.stop:
                time.sleep(0.01)

    async def _spawn(self, index: int) -> None:
        self.tasks.append(asyncio.ensure_future(self._watch(index)))

    async def _watch(self, index: int) -> None:
        try:
            path = f"/api/generate/{self.streams[index]}/events"
            reader, writer, _ = await harness.event_stream_open(self.port, path, self.key)
            # Read in bulk and matched, not parsed: one client loop reads a thousand streams,
            # and must keep up with them for its arrival times to be the server's. (The server
            # writes whole frames in each chunk; the chunk sizes between them match nothing.)
            buffer = b""
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                arrived = time.monotonic()
                buffer += data
                cut = buffer.rfind(b"\n\n") + 2
                if cut < 2:
                    continue
                frames, buffer = buffer[:cut], buffer[cut:]
                positions = frames.count(b"event: queue_position\n")
                if positions and index not in self.opened:
                    self.opened.add(index)
                    positions -= 1
                self.positions[index] = self.positions.get(index, 0) + positions
                if any(status in frames for status in TERMINAL):
                    self.ended[index] = arrived
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - counted and reported
            self.failure(exc)


def _queue_jobs(count: int) -> list[str]:
    """``count`` jobs of the local provider waiting in its queue, each with its status event."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import User
    from generation.models import Generation, GenerationEvent, Status

    user = User.objects.get(email=harness.BENCH_EMAIL)
    now = timezone.now()
    jobs = Generation.objects.bulk_create(
        Generation(
            user=user,
            model_id="local/procedural",
            provider="local",
            status=Status.IN_QUEUE,
            queued_at=now + timedelta(milliseconds=index),
            dispatched_at=now,
            prompt=f"a lighthouse at dusk, study {index}",
            final_prompt=f"a lighthouse at dusk, study {index}",
            width=64,
            height=64,
            seed=index,
        )
        for index in range(count)
    )
    GenerationEvent.objects.bulk_create(
        GenerationEvent(generation=job, type=GenerationEvent.Type.STATUS, data={"status": Status.IN_QUEUE})
        for job in jobs
    )
    return [str(job.pk) for job in jobs]


class TerminalCommits:
    """When each job's terminal event was published: right after its transaction committed (the
    publish is that commit's on-commit callback)."""

    def __init__(self):
        from core import pubsub

        self.at: dict[str, float] = {}
        self._pubsub = pubsub
        self._publish = pubsub.publish

    def __enter__(self):
        def publish(*, channel: str, message: dict) -> None:
            for event in message.get("events", ()):
                if event["type"] == "status" and event["data"].get("status") in ("completed", "failed", "cancelled"):
                    self.at[channel.removeprefix("generation:")] = time.monotonic()
            self._publish(channel=channel, message=message)

        self._pubsub.publish = publish
        return self

    def __exit__(self, *exc_info):
        self._pubsub.publish = self._publish


def _web_args(port: int) -> list[str]:
    return [
        *(sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "--log-level", "warning"),
        *("config.asgi", "-k", "uvicorn_worker.UvicornWorker"),
    ]


def _work(jobs: list[str]) -> None:
    """The worker: a process of its own that runs the jobs in queue order and prints when each
    one's terminal event was published (CLOCK_MONOTONIC is one clock for every process)."""
    import django

    django.setup()
    from generation.services import generation_run

    with TerminalCommits() as commits:
        for job in jobs:
            generation_run(generation_id=job)
    print(json.dumps(commits.at))


def _run(per_job: int, env: dict, key: str, options) -> dict:
    import subprocess

    jobs = _queue_jobs(options.jobs)
    streams = [job for job in jobs for _ in range(per_job)]
    port = harness.free_port()
    web_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.events.settings", "DB_CONN_MAX_AGE": "0"}
    with harness.running(("web-draining", _web_args(port), web_env)) as (web,):
        harness.wait_http(web, port, "/bench/bare", key)
        watchers = QueueWatchers(port, key, streams)
        try:
            began = time.monotonic()
            watchers.connect_all()
            connect_seconds = time.monotonic() - began
            time.sleep(STATS_SETTLE_SECONDS)  # the opening reads are reported before counting
            before = harness.database_transactions()
            cpu = harness.CPUMeter(web)
            cpu_before = cpu.sample()
            drain_began = time.monotonic()
            worker = subprocess.run(  # noqa: S603
                [sys.executable, "-m", "bench.events.draining", "--work", *jobs],
                cwd=harness.ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
                timeout=600,
            )
            drain_seconds = time.monotonic() - drain_began
            committed = json.loads(worker.stdout.strip().splitlines()[-1])
            deadline = time.monotonic() + options.wait_seconds
            while time.monotonic() < deadline and len(watchers.ended) < len(streams):
                time.sleep(0.05)
            web_cpu, _ = cpu.used(cpu_before)  # the web worker's (database backends come and go)
            time.sleep(STATS_SETTLE_SECONDS)
            transactions = harness.database_transactions() - before
            latencies = [
                (arrived - committed[streams[index]]) * 1000
                for index, arrived in watchers.ended.items()
                if streams[index] in committed
            ]
            return {
                "per_job": per_job,
                "watchers": len(streams),
                "opened": len(watchers.opened),
                "failed": watchers.failed,
                "connect_s": connect_seconds,
                "drain_s": drain_seconds,
                "ended": len(watchers.ended),
                "positions": sum(watchers.positions.values()),
                "p50": harness.percentile(latencies, 50),
                "p99": harness.percentile(latencies, 99),
                "max": max(latencies, default=float("nan")),
                "transactions_per_job": transactions / len(jobs),
                "web_cpu_s": web_cpu,
            }
        finally:
            watchers.close()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--work"]:
        _work(argv[1:])
        return
    parser = argparse.ArgumentParser(prog="bench.events --draining", description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--watchers-per-job", default="1,50", help="comma-separated")
    parser.add_argument("--wait-seconds", type=float, default=30.0, help="for the last terminal events")
    options = parser.parse_args(argv)
    counts = [int(n) for n in options.watchers_per_job.split(",")]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * options.jobs * max(counts) + 256)), hard))

    print(harness.machine_line())
    results = []
    with harness.bench_environment() as (env, key):
        for per_job in counts:
            result = _run(per_job, env, key, options)
            results.append(result)
            print(_line(result), flush=True)
    print()
    print("| per job | streams | ended | positions sent | terminal p50 ms | p99 ms | max ms | transactions/job |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {r['per_job']} | {r['watchers']} | {r['ended']}/{r['watchers']} | {r['positions']} | "
            f"{r['p50']:.1f} | {r['p99']:.1f} | {r['max']:.1f} | {r['transactions_per_job']:.1f} |"
        )
    by_count = {r["per_job"]: r for r in results}
    if 1 in by_count and len(by_count) > 1:
        most = by_count[max(by_count)]
        ratio = most["transactions_per_job"] / by_count[1]["transactions_per_job"]
        met = most["p99"] <= 100 and ratio <= 1.3 and most["ended"] == most["watchers"]
        print(
            f"\ntransactions per job, {max(by_count)} watchers per job against 1: {ratio:.2f}x; "
            f"goal (p99 <= 100 ms, <= 1.3x, every stream ended): {'met' if met else 'MISSED'}"
        )


def _line(r: dict) -> str:
    return (
        f"{r['per_job']:3d} per job: {r['opened']}/{r['watchers']} streams open (failed {r['failed']}) in "
        f"{r['connect_s']:.1f} s; drained in {r['drain_s']:.1f} s; {r['ended']} ended, {r['positions']} positions; "
        f"terminal p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms; {r['transactions_per_job']:.1f} transactions/job; "
        f"web CPU {r['web_cpu_s']:.2f} s"
    )


if __name__ == "__main__":
    main()
