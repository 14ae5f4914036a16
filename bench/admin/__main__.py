"""``python -m bench.admin``: /admin/api/metrics and /admin/api/status at a million generations.

Builds its own database (``BENCH_ADMIN_DB``, default atelier_admin_bench) on the local
PostgreSQL: ``--users`` users, ``--generations`` generations spread over the last ``--days``
days (97 % completed, 2 % failed, 1 % waiting in a queue), one image per completed generation
and one ledger debit per generation, made inside PostgreSQL by INSERT … SELECT generate_series;
and an hour of provider-call buckets. Then it times the staff endpoints in process (the request
through Django, DRF and the database: the server's time, without a network) and prints p50/p95.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
from bench import harness  # noqa: E402

PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_ADMIN_DB", "atelier_admin_bench")
os.environ["DATABASE_URL"] = f"{PG_SERVER}/{DB_NAME}"
os.environ.pop("REDIS_URL", None)
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"

MODELS = ["local/procedural", "fal-ai/flux/dev", "fal-ai/flux-pro/v1.1", "openai/dall-e-3", "fal-ai/flux/schnell"]
STYLES = ["realistic", "modern", "anime", "watercolor", ""]


def drop_database() -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def load(*, users: int, generations: int, days: int) -> float:
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from catalog.models import AIModel
    from credits.models import CreditAccount
    from ops.provider_health import provider_call_record

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE generation_generation, gallery_asset, credits_ledgerentry, ops_providercallbucket CASCADE"
        )
    User.objects.filter(email__endswith="@bench.example").delete()
    models = [m for m in MODELS if AIModel.objects.filter(pk=m).exists()] or [
        AIModel.objects.values_list("pk", flat=True)[0]
    ]
    unusable = make_password(None)
    people = User.objects.bulk_create(
        [User(email=f"user{n}@bench.example", username=f"bench-user{n}", password=unusable) for n in range(users)]
    )
    CreditAccount.objects.bulk_create([CreditAccount(user=user, balance=100) for user in people])
    span = days * 86400
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute(
            "CREATE TEMP TABLE bench_users AS SELECT row_number() OVER () - 1 AS n, u FROM unnest(%s::bigint[]) AS u",
            [[p.pk for p in people]],
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_models AS SELECT row_number() OVER () - 1 AS n, m FROM unnest(%s::text[]) AS m",
            [models],
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_styles AS SELECT row_number() OVER () - 1 AS n, s FROM unnest(%s::text[]) AS s",
            [STYLES],
        )
        # Only whole numbers and fixed text are formatted into these statements.
        cursor.execute(
            f"""
            INSERT INTO generation_generation (
                id, user_id, model_id, provider, status, prompt, final_prompt, negative_prompt, width, height,
                num_images, seed, output_format, params, webhook_url, cost, provider_request_id, progress, logs,
                error, error_type, attempts, created_at, updated_at, queued_at, started_at, finished_at)
            SELECT lpad(to_hex(g), 32, '0')::uuid, u.u, m.m, split_part(m.m, '/', 1),
                CASE WHEN mod(g, 100) = 0 THEN 'in_queue' WHEN mod(g, 50) = 1 THEN 'failed' ELSE 'completed' END,
                'a lighthouse ' || g, 'a lighthouse ' || g, '', 1024, 1024, 1, g, 'png',
                jsonb_build_object('art_style', s.s), '', 1 + mod(g, 3), '', 100, '[]'::jsonb, '', '', 1,
                now() - make_interval(secs => mod(g::bigint * 7919, {span})), now(),
                now() - make_interval(secs => mod(g::bigint * 7919, {span})),
                now() - make_interval(secs => mod(g::bigint * 7919, {span})), now()
            FROM generate_series(1, {generations}) AS g
            JOIN bench_users u ON u.n = mod(g, {users})
            JOIN bench_models m ON m.n = mod(g, {len(models)})
            JOIN bench_styles s ON s.n = mod(g / 7, {len(STYLES)})
            -- Stored oldest first, as a live table fills up.
            ORDER BY mod(g::bigint * 7919, {span}) DESC
            """  # noqa: S608
        )
        cursor.execute(
            """
            INSERT INTO gallery_asset (id, owner_id, generation_id, type, file, thumbnail, width, height, format,
                file_size, prompt, model, style, seed, is_favorited, is_public, is_nsfw, short_key, created_at,
                updated_at)
            SELECT g.id, g.user_id, g.id, 'image', 'assets/bench/' || g.seed || '.png', '', 1024, 1024, 'png', 1200000,
                g.prompt, g.model_id, g.params->>'art_style', g.seed, false, false, false, 'k' || to_hex(g.seed),
                g.created_at, now()
            FROM generation_generation g WHERE g.status = 'completed' ORDER BY g.created_at
            """
        )
        cursor.execute(
            """
            INSERT INTO credits_ledgerentry (user_id, generation_id, kind, amount, balance_after, reason, created_at)
            SELECT g.user_id, g.id, 'debit', -g.cost, 0, 'bench', g.created_at FROM generation_generation g
            ORDER BY g.created_at
            """
        )
        # What autovacuum does after a load: BRIN ranges summarised, statistics fresh.
        cursor.execute("VACUUM ANALYZE")
    now = timezone.now()
    for minute in range(60):
        for n, provider in enumerate(["local", "fal", "openai", "replicate", "huggingface", "comfyui"]):
            for call in range(5):
                provider_call_record(
                    provider=provider,
                    duration_ms=100 * (n + 1) + 37 * call,
                    ok=call != 4 or minute % 3,
                    at=now - timezone.timedelta(minutes=minute),
                )
    return time.perf_counter() - started


def timed(fn, runs: int) -> tuple[float, float]:
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--generations", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the database for another run")
    args = parser.parse_args()

    harness.database_ensure(DB_NAME)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from accounts.services import user_create
    from generation.models import Generation

    call_command("migrate", verbosity=0)
    try:
        if Generation.objects.count() != args.generations:
            took = load(users=args.users, generations=args.generations, days=args.days)
            print(f"loaded {args.generations:,} generations for {args.users:,} users in {took:.1f} s")
        staff = user_create(email=f"ops{time.time_ns()}@bench.example", password=None, is_staff=True)
        client = Client()
        client.force_login(staff)
        settings.RATELIMIT_ENABLE = False

        def get(path: str):
            def call():
                response = client.get(path)
                assert response.status_code == 200, response.content[:500]

            return call

        from django.db import connection

        # The rollups of settled days are made by the first call of a period, then read.
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE ops_usageday, ops_usageuserday, ops_usagemodelday")
        started = time.perf_counter()
        get("/admin/api/metrics?period=month")()
        first = (time.perf_counter() - started) * 1000
        rows = [("metrics period=month, first call", first, first)]
        for label, path, cache_seconds in [
            ("metrics period=month (30 days)", "/admin/api/metrics?period=month", 0),
            ("metrics period=week", "/admin/api/metrics?period=week", 0),
            ("metrics period=day", "/admin/api/metrics?period=day", 0),
            ("status (uncached counts)", "/admin/api/status", 0),
            ("status (counts cached 30 s)", "/admin/api/status", 30),
            ("users page 1, limit 50", "/admin/api/users?limit=50", 0),
            ("users search", "/admin/api/users?limit=50&search=user19", 0),
        ]:
            settings.ATELIER_ADMIN_STATUS_CACHE_SECONDS = cache_seconds
            rows.append((label, *timed(get(path), args.runs)))
        print(f"{Generation.objects.count():,} generations; p50 / p95 server time over {args.runs} runs")
        for label, p50, p95 in rows:
            print(f"  {label:<34} {p50:9.1f} ms {p95:9.1f} ms")
    finally:
        if not args.keep:
            drop_database()


if __name__ == "__main__":
    main()
