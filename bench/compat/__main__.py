"""The compatible APIs against the canonical one: the same local job through each, one run.

    .venv/bin/python -m bench.compat [--rounds 40] [--warmup 5] [--size 256]

Starts gunicorn and a Celery worker on the bench settings (bench/harness.py), then, one request
at a time and in turn within each round:

- ``canonical``: ``POST /api/generate`` with ``sync_mode: true`` (answer: the generation and its
  image URLs);
- ``openai``: ``POST /v1/images/generations`` with ``response_format: b64_json`` (answer: the
  image itself, base64);
- ``a1111``: ``POST /sdapi/v1/txt2img`` (answer: the image as base64 PNG, the parameters echoed
  and the info string).

Each asks for the same job: model ``local/procedural``, one size×size PNG, the same prompt. A
request's latency runs from just before it is sent to the end of its answer, measured by the
one keep-alive client. It prints p50/p99 per route and each compatible route's p50 and p99 over
the canonical route's (goal: each ≤ 1.15). See bench/README.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

# Its own database, so that it can run beside the other benchmarks.
os.environ.setdefault("BENCH_DB_NAME", "atelier_bench_compat")

from bench import harness  # noqa: E402

GOAL_RATIO = 1.15
PROMPT = "a lighthouse at sunset"
MODEL = "local/procedural"


def _bodies(size: int) -> dict[str, tuple[str, dict, int]]:
    """Each route's path, body and expected status, for the same job."""
    return {
        "canonical": (
            "/api/generate",
            {"model": MODEL, "prompt": PROMPT, "width": size, "height": size, "format": "png", "sync_mode": True},
            200,
        ),
        "openai": (
            "/v1/images/generations",
            {"model": MODEL, "prompt": PROMPT, "size": f"{size}x{size}", "response_format": "b64_json"},
            200,
        ),
        "a1111": (
            "/sdapi/v1/txt2img",
            {
                "prompt": PROMPT,
                "width": size,
                "height": size,
                "override_settings": {"sd_model_checkpoint": MODEL},
            },
            200,
        ),
    }


def round_trip(conn: http.client.HTTPConnection, key: str, path: str, body: dict, expected: int) -> float:
    payload = json.dumps(body)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    started = time.perf_counter()
    conn.request("POST", path, body=payload, headers=headers)
    response = conn.getresponse()
    answer = response.read()
    elapsed = time.perf_counter() - started
    if response.status != expected:
        raise RuntimeError(f"POST {path} answered {response.status}: {answer[:500]!r}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40, help="requests measured per route")
    parser.add_argument("--warmup", type=int, default=5, help="requests per route before measuring")
    parser.add_argument("--size", type=int, default=256, help="width and height of the image")
    parser.add_argument("--timeout", type=float, default=60.0, help="time limit of one request")
    args = parser.parse_args()

    bodies = _bodies(args.size)
    with harness.bench_environment() as (env, key):
        port = harness.free_port()
        with harness.running(harness.gunicorn_args(port) + (env,), harness.celery_args() + (env,)) as (web, worker):
            harness.wait_http(web, port, "/bench/bare", key)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=args.timeout)
            for _ in range(args.warmup):
                for path, body, expected in bodies.values():
                    round_trip(conn, key, path, body, expected)
            times: dict[str, list[float]] = {name: [] for name in bodies}
            for index in range(args.rounds):
                # The order turns each round, so that no route always follows the same one.
                names = list(bodies)
                names = names[index % len(names) :] + names[: index % len(names)]
                for name in names:
                    times[name].append(round_trip(conn, key, *bodies[name]))
            conn.close()
            report(args, times)
    return 0


def report(args, times: dict[str, list[float]]) -> None:
    def ms(name: str, pct: float) -> float:
        return harness.percentile(times[name], pct) * 1000

    print(f"bench/compat: {args.rounds} rounds, local/procedural {args.size}x{args.size} PNG, one client")
    print(f"  machine: {harness.machine_line()}")
    print(
        f"  web: gunicorn config.wsgi, {harness.GUNICORN_WORKERS} workers, gthread x {harness.GUNICORN_THREADS}; "
        f"worker: celery prefork x {harness.CELERY_CONCURRENCY}"
    )
    labels = {
        "canonical": "POST /api/generate sync_mode",
        "openai": "POST /v1/images/generations b64_json",
        "a1111": "POST /sdapi/v1/txt2img",
    }
    for name, label in labels.items():
        line = f"  {label:<40} p50 {ms(name, 50):7.1f} ms   p99 {ms(name, 99):7.1f} ms"
        if name != "canonical":
            p50, p99 = ms(name, 50) / ms("canonical", 50), ms(name, 99) / ms("canonical", 99)
            verdict = "ok" if p50 <= GOAL_RATIO else "over the goal"
            line += f"   ratio p50 {p50:.2f} p99 {p99:.2f} (goal <= {GOAL_RATIO}: {verdict})"
        print(line)


if __name__ == "__main__":
    sys.exit(main())
