"""N concurrent watchers of running jobs on one web process: pushed events (ASGI) against the
polling stream they replaced (WSGI threads), in the same run.

    .venv/bin/python -m bench.events [--watchers 100,500,1000] [--rate 40] [--seconds 8] [--plain-requests]

For each N and each design it starts one web process, opens N event streams of N running jobs
(one each, 50 connecting at a time), then measures:
- database queries per second while nothing happens (the bench database's committed and rolled
  back transactions in ``pg_stat_database``; every query of the web process is one),
- the web process's RSS (gunicorn master and worker) with the N streams open,
- delivery latency: the bench writes progress through ``generation_record_progress`` at
  ``--rate`` per second for ``--seconds`` seconds, each to one job, and stamps the moment its
  transaction commits; a watcher stamps the moment the frame arrives (both on this machine's
  monotonic clock). p50/p99 over the delivered frames, and how many were delivered.

``--scenario plain`` only times ordinary requests on both kinds of server (as ``--plain-requests``).
``--scenario memory`` measures the web process's memory per open stream (bench/events/memory.py).

``--scenario storm`` is a reconnect storm instead: N streams (``--streams``, 1,000) opened at the
same moment on one ASGI process, no batches, each stream's job with one stored event. It counts
the streams that failed (by answer), the time until every stream has read its job's events,
the most database connections the server held, then the delivery latency as above.

Pushed: ``gunicorn config.asgi -k uvicorn_worker.UvicornWorker -w 1``. Polling: the old stream
(``bench/events/polling.py``) under ``gunicorn config.wsgi -k gthread -w 1 --threads T``; T is
at most ``--poll-threads`` (48) because each thread holds a database connection and PostgreSQL
allows 100 by default: streams past T wait for a thread and receive nothing. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

# Its own database and Redis index, so that it runs beside the other benchmarks.
os.environ.setdefault("BENCH_DB_NAME", "atelier_e_bench")
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")

from bench import harness  # noqa: E402

CONNECT_BATCH = 50


def _web_args(design: str, port: int, threads: int) -> list[str]:
    args = [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "--log-level", "warning"]
    if design == "pushed":
        return [*args, "config.asgi", "-k", "uvicorn_worker.UvicornWorker"]
    return [*args, "config.wsgi", "-k", "gthread", "--threads", str(threads), "--keep-alive", "30"]


class Watchers(harness.StreamReaders):
    """N event streams read by one asyncio loop in a thread of the bench process."""

    def __init__(self, port: int, key: str, paths: dict[str, str]):
        super().__init__(port, key)
        self.paths = paths
        self.received: dict[tuple[str, int], float] = {}
        self.ready: set[str] = set()

    def connect_all(self, batch_timeout: float = 20.0) -> None:
        ids = list(self.paths)
        for start in range(0, len(ids), CONNECT_BATCH):
            batch = ids[start : start + CONNECT_BATCH]
            for generation_id in batch:
                asyncio.run_coroutine_threadsafe(self._spawn(generation_id), self.loop).result(10)
            deadline = time.monotonic() + batch_timeout
            while time.monotonic() < deadline and len(self.ready) + self.failed < start + len(batch):
                time.sleep(0.01)
            if len(self.ready) + self.failed < start + len(batch):
                # A polling server whose threads are all taken: the rest would wait the same.
                for generation_id in ids[start + CONNECT_BATCH :]:
                    asyncio.run_coroutine_threadsafe(self._spawn(generation_id), self.loop).result(10)
                return

    def connect_at_once(self, timeout: float) -> float:
        """Opens every stream in the same moment (a storm); returns the seconds until each one
        has read its job's stored event (progress 0) or failed, at most ``timeout``."""
        began = time.monotonic()

        async def spawn_all():
            for generation_id in self.paths:
                await self._spawn(generation_id)

        asyncio.run_coroutine_threadsafe(spawn_all(), self.loop).result(30)
        deadline = began + timeout
        while time.monotonic() < deadline and len(self.caught_up()) + self.failed < len(self.paths):
            time.sleep(0.01)
        return time.monotonic() - began

    def caught_up(self) -> set[str]:
        return {generation_id for generation_id, progress in list(self.received) if progress == 0}

    async def _spawn(self, generation_id: str) -> None:
        self.tasks.append(asyncio.ensure_future(self._watch(generation_id)))

    async def _watch(self, generation_id: str) -> None:
        try:
            reader, writer, chunked = await harness.event_stream_open(self.port, self.paths[generation_id], self.key)
            buffer = b""
            async for data in harness.event_stream_data(reader, chunked):
                arrived = time.monotonic()
                self.ready.add(generation_id)
                buffer += data
                while b"\n\n" in buffer:
                    block, buffer = buffer.split(b"\n\n", 1)
                    for line in block.split(b"\n"):
                        if line.startswith(b"data: "):
                            payload = json.loads(line[6:])
                            if "progress" in payload:
                                self.received[(generation_id, payload["progress"])] = arrived
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - counted and reported
            self.failure(exc)


def _idle_queries_per_second(seconds: float) -> float:
    # A backend reports its counts at most once a second while busy and 10 s after it went idle:
    # let the streams' opening reads be reported first, then count over a long window.
    time.sleep(11.0)
    before = harness.database_transactions()
    time.sleep(seconds)
    return (harness.database_transactions() - before) / seconds


def _web_rss_mb(web: harness.Process) -> float:
    return harness.rss_mb(web.pid) + sum(harness.rss_mb(pid) for pid in harness.children(web.pid))


def _write_progress(jobs: list[str], *, rate: float, seconds: float) -> dict[tuple[str, int], float]:
    """Progress of one job at a time, ``rate`` a second; the moment each one commits."""
    from django.db import transaction

    from generation.services.events import generation_record_progress

    committed: dict[tuple[str, int], float] = {}
    count = int(rate * seconds)
    start = time.monotonic()
    for index in range(count):
        generation_id = jobs[index % len(jobs)]
        percent = 1 + index // len(jobs)
        with transaction.atomic():
            # Registered first, so it runs first once the commit is done (then the publish).
            transaction.on_commit(lambda key=(generation_id, percent): committed.__setitem__(key, time.monotonic()))
            generation_record_progress(generation_id=generation_id, percent=percent)
        pause = start + (index + 1) / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    return committed


def _run(design: str, watchers: int, jobs: list[str], env: dict, key: str, options) -> dict:
    port = harness.free_port()
    threads = min(watchers, options.poll_threads)
    web_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.events.settings"}
    if design == "pushed":
        web_env["DB_CONN_MAX_AGE"] = "0"
    ids = jobs[:watchers]
    with harness.running((f"web-{design}", _web_args(design, port, threads), web_env)) as (web,):
        harness.wait_http(web, port, "/bench/bare", key)
        if design == "pushed":
            paths = {g: f"/api/generate/{g}/events" for g in ids}
        else:
            paths = {g: f"/bench/poll-events/{g}" for g in ids}
        clients = Watchers(port, key, paths)
        try:
            began = time.monotonic()
            clients.connect_all()
            connect_seconds = time.monotonic() - began
            idle_qps = _idle_queries_per_second(options.idle_seconds)
            rss = _web_rss_mb(web)
            committed = _write_progress(ids, rate=options.rate, seconds=options.seconds)
            latencies = harness.delivery_latencies_ms(committed, clients.received, drain_seconds=options.drain_seconds)
            return {
                "design": design,
                "watchers": watchers,
                "streaming": len(clients.ready),
                "failed": clients.failed,
                "connect_s": connect_seconds,
                "idle_qps": idle_qps,
                "rss_mb": rss,
                "delivered": len(latencies),
                "sent": len(committed),
                "p50": harness.percentile(latencies, 50),
                "p99": harness.percentile(latencies, 99),
                "threads": threads if design == "polling" else None,
            }
        finally:
            clients.close()


class ConnectionPeak(threading.Thread):
    """The most connections the web process held at once (it names them with PGAPPNAME)."""

    NAME = "atelier-bench-web"

    def __init__(self):
        super().__init__(daemon=True)
        self.most = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(f"{harness.PG_SERVER_URL}/postgres", autocommit=True) as conn:
            while not self.stopped.wait(0.05):
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [self.NAME]
                ).fetchone()
                self.most = max(self.most, row[0])

    def stop(self) -> int:
        self.stopped.set()
        self.join(10)
        return self.most


def _storm(streams: int, jobs: list[str], env: dict, key: str, options) -> dict:
    port = harness.free_port()
    web_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.events.settings", "PGAPPNAME": ConnectionPeak.NAME}
    # As the production recipe serves ASGI before the pool (which forces it to 0 itself).
    web_env["DB_CONN_MAX_AGE"] = "0"
    ids = jobs[:streams]
    _stored_event(ids)
    with harness.running(("web-storm", _web_args("pushed", port, 0), web_env)) as (web,):
        harness.wait_http(web, port, "/bench/bare", key)
        clients = Watchers(port, key, {g: f"/api/generate/{g}/events" for g in ids})
        peak = ConnectionPeak()
        peak.start()
        try:
            open_seconds = clients.connect_at_once(options.open_timeout)
            opened = len(clients.caught_up())
            committed = _write_progress(ids, rate=options.rate, seconds=options.seconds)
            latencies = harness.delivery_latencies_ms(committed, clients.received, drain_seconds=options.drain_seconds)
            return {
                "streams": streams,
                "opened": opened,
                "failed": clients.failed,
                "failures": dict(clients.failures.most_common(4)),
                "open_s": open_seconds,
                "connections": peak.stop(),
                "delivered": len(latencies),
                "sent": len(committed),
                "p50": harness.percentile(latencies, 50),
                "p99": harness.percentile(latencies, 99),
            }
        finally:
            peak.stop()
            clients.close()


def _stored_event(jobs: list[str]) -> None:
    """One stored event per job (progress 0), which each stream reads from the database when it opens."""
    from generation.models import GenerationEvent

    GenerationEvent.objects.filter(generation_id__in=jobs).delete()
    GenerationEvent.objects.bulk_create(
        GenerationEvent(generation_id=g, type=GenerationEvent.Type.PROGRESS, data={"progress": 0}) for g in jobs
    )


def _plain_requests(env: dict, key: str, count: int = 400) -> None:
    """What serving on ASGI costs an ordinary (sync) API request against WSGI: both servers up at
    once, one keep-alive connection each, their requests alternated (the order swapped each
    round) so that a busy neighbour slows both alike; the median of each, and the web worker's
    CPU time per request (user + system, from /proc)."""
    import http.client
    import statistics

    paths = ("/bench/bare", "/api/generate?limit=5")
    servers = (("WSGI gthread", "polling"), ("ASGI uvicorn", "pushed"))
    ports = {label: harness.free_port() for label, _ in servers}
    web_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.events.settings"}
    starts = [(f"web-{design}", _web_args(design, ports[label], 4), web_env) for label, design in servers]
    with harness.running(*starts) as webs:
        for (label, _), web in zip(servers, webs, strict=True):
            harness.wait_http(web, ports[label], "/bench/bare", key)
        workers = {label: harness.children(web.pid)[0] for (label, _), web in zip(servers, webs, strict=True)}
        connections = {label: http.client.HTTPConnection("127.0.0.1", ports[label], timeout=10) for label in ports}

        def timed(label: str, path: str) -> float:
            began = time.perf_counter()
            connections[label].request("GET", path, headers={"Authorization": f"Bearer {key}"})
            connections[label].getresponse().read()
            return (time.perf_counter() - began) * 1000

        rows = []
        for path in paths:
            order = [label for label, _ in servers]
            for _ in range(count // 5):  # warm-up
                for label in order:
                    timed(label, path)
            timings: dict[str, list[float]] = {label: [] for label in order}
            cpu_before = {label: harness.cpu_seconds(pid) for label, pid in workers.items()}
            for _ in range(count):
                order.reverse()
                for label in order:
                    timings[label].append(timed(label, path))
            cpu = {
                label: (harness.cpu_seconds(pid) - cpu_before[label]) * 1000 / count for label, pid in workers.items()
            }
            rows.append((path, {label: statistics.median(t) for label, t in timings.items()}, cpu))
        for connection in connections.values():
            connection.close()

    wsgi, asgi = (label for label, _ in servers)
    print(f"\nplain requests, {count} alternated on each server (median ms; worker CPU ms per request):")
    print(f"| path | {wsgi} | {asgi} | ratio | CPU {wsgi} | CPU {asgi} | CPU ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for path, median, cpu in rows:
        print(
            f"| {path} | {median[wsgi]:.2f} | {median[asgi]:.2f} | {median[asgi] / median[wsgi]:.2f} | "
            f"{cpu[wsgi]:.2f} | {cpu[asgi]:.2f} | {cpu[asgi] / cpu[wsgi]:.2f} |",
            flush=True,
        )


def _jobs(count: int) -> list[str]:
    from accounts.models import User
    from generation.models import Generation, Status

    user = User.objects.get(email=harness.BENCH_EMAIL)
    created = Generation.objects.bulk_create(
        Generation(
            user=user, model_id="local/procedural", provider="local", status=Status.PROCESSING, width=64, height=64
        )
        for _ in range(count)
    )
    return [str(g.pk) for g in created]


def main() -> None:
    if "--draining" in sys.argv[1:]:
        # A draining queue (bench/events/draining.py), with its own options.
        from bench.events.draining import main as draining

        return draining([arg for arg in sys.argv[1:] if arg != "--draining"])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--watchers", default="100,500,1000", help="comma-separated N")
    parser.add_argument("--designs", default="pushed,polling")
    parser.add_argument("--rate", type=float, default=40.0, help="progress writes per second")
    parser.add_argument("--seconds", type=float, default=8.0, help="how long progress is written")
    parser.add_argument("--idle-seconds", type=float, default=8.0)
    parser.add_argument("--drain-seconds", type=float, default=5.0)
    parser.add_argument("--poll-threads", type=int, default=48)
    parser.add_argument("--plain-requests", action="store_true", help="also time ordinary requests on both servers")
    parser.add_argument("--scenario", choices=("watchers", "storm", "memory", "plain"), default="watchers")
    parser.add_argument("--streams", type=int, default=1000, help="streams opened at once (storm)")
    parser.add_argument("--open-timeout", type=float, default=120.0, help="how long the storm may take to open")
    options = parser.parse_args()
    if options.scenario in ("storm", "memory"):
        options.watchers = str(options.streams)
    counts = [int(n) for n in options.watchers.split(",")]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * max(counts) + 256)), hard))

    print(harness.machine_line())
    if options.scenario == "storm":
        with harness.bench_environment() as (env, key):
            result = _storm(options.streams, _jobs(options.streams), env, key, options)
        _print_storm(result)
        return
    if options.scenario == "plain":
        with harness.bench_environment() as (env, key):
            _plain_requests(env, key)
        return
    if options.scenario == "memory":
        # The memory an open stream costs (bench/events/memory.py).
        from bench.events import memory

        with harness.bench_environment() as (env, key):
            web_args = functools.partial(_web_args, "pushed", threads=0)
            jobs = _jobs(options.streams)
            rounds = memory.run(streams=options.streams, jobs=jobs, env=env, key=key, web_args=web_args)
        memory.print_table(rounds)
        return
    results = []
    with harness.bench_environment() as (env, key):
        jobs = _jobs(max(counts))
        for watchers in counts:
            for design in options.designs.split(","):
                result = _run(design, watchers, jobs, env, key, options)
                results.append(result)
                print(_line(result), flush=True)
        if options.plain_requests:
            _plain_requests(env, key)
    print()
    print("| N | design | streaming | idle DB queries/s | web RSS MB | delivered | p50 ms | p99 ms |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        design = r["design"] if r["threads"] is None else f"polling ({r['threads']} threads)"
        print(
            f"| {r['watchers']} | {design} | {r['streaming']} | {r['idle_qps']:.1f} | {r['rss_mb']:.0f} | "
            f"{r['delivered']}/{r['sent']} | {r['p50']:.1f} | {r['p99']:.1f} |"
        )
    pushed = [r for r in results if r["design"] == "pushed" and r["watchers"] == max(counts)]
    if pushed:
        goal = pushed[0]["p99"] <= 100 and pushed[0]["idle_qps"] < 1 and pushed[0]["delivered"] == pushed[0]["sent"]
        print(f"\ngoal ({max(counts)} watchers, p99 <= 100 ms, idle queries ~ 0): {'met' if goal else 'MISSED'}")


def _line(r: dict) -> str:
    return (
        f"N={r['watchers']:5d} {r['design']:8s} streaming {r['streaming']:5d} (failed {r['failed']}) "
        f"connected in {r['connect_s']:.1f} s, idle {r['idle_qps']:.1f} queries/s, RSS {r['rss_mb']:.0f} MB, "
        f"delivered {r['delivered']}/{r['sent']}, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms"
    )


def _print_storm(r: dict) -> None:
    print(_storm_line(r))
    print("\n| streams at once | opened | failed | all open after | DB connections (peak) | delivered | p50 | p99 |")
    print("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    failures = ", ".join(f"{n} × {why}" for why, n in r["failures"].items()) or "0"
    print(
        f"| {r['streams']} | {r['opened']} | {failures} | {r['open_s']:.1f} s | {r['connections']} | "
        f"{r['delivered']}/{r['sent']} | {r['p50']:.1f} ms | {r['p99']:.1f} ms |"
    )


def _storm_line(r: dict) -> str:
    return (
        f"storm of {r['streams']}: {r['opened']} opened, {r['failed']} failed {r['failures'] or ''} "
        f"in {r['open_s']:.1f} s, at most {r['connections']} database connections, "
        f"delivered {r['delivered']}/{r['sent']}, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms"
    )


if __name__ == "__main__":
    main()
