"""``python -m bench.gallery``: GET /api/gallery at a million assets, by cursor and by page number.

Builds its own database (``BENCH_GALLERY_DB``, default atelier_gallery_bench) on the local
PostgreSQL: 1,000 users, one of whom owns ``--deep + 1,000`` assets so that a page 1,000,000
rows deep exists, and 999 who own ``--per-user`` each. Rows are made inside PostgreSQL by one
INSERT … SELECT generate_series per group, with the secondary indexes built after the load.
Then it times the list view in process (the request through Django, DRF and the database:
the server's time, without a network) and prints p50s and deep/first ratios.
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
DB_NAME = os.environ.get("BENCH_GALLERY_DB", "atelier_gallery_bench")
os.environ["DATABASE_URL"] = f"{PG_SERVER}/{DB_NAME}"
os.environ.pop("REDIS_URL", None)
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"


def load(*, users: int, per_user: int, deep: int, reload: bool) -> tuple[object, float]:
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from accounts.models import User
    from gallery.models import Asset

    heavy_rows = deep + 1000
    wanted = heavy_rows + (users - 1) * per_user
    heavy = User.objects.filter(email="heavy@bench.example").first()
    if heavy and not reload and Asset.objects.count() == wanted:
        print(f"reusing {wanted:,} assets")
        return heavy, 0.0
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE gallery_asset CASCADE")
    User.objects.filter(email__endswith="@bench.example").delete()
    unusable = make_password(None)
    people = User.objects.bulk_create(
        [User(email=f"user{n}@bench.example", username=f"bench-user{n}", password=unusable) for n in range(users - 1)]
        + [User(email="heavy@bench.example", username="bench-heavy", password=unusable)]
    )
    heavy, others = people[-1], people[:-1]
    with connection.schema_editor() as editor:
        for index in Asset._meta.indexes:
            editor.remove_index(Asset, index)
    columns = (
        "id, owner_id, type, file, thumbnail, width, height, format, file_size, prompt, model, style, seed,"
        " is_favorited, is_public, is_nsfw, short_key, created_at, updated_at"
    )
    values = (
        "lpad(to_hex({key}), 32, '0')::uuid, {owner}, CASE WHEN mod(g, 50) = 0 THEN 'video' ELSE 'image' END,"
        " 'assets/bench/' || g || '.png', 'thumbnails/bench/' || g || '.webp', 1024, 1024, 'png', 1200000,"
        " 'a lighthouse at sunset number ' || g, 'fal-ai/flux/dev', '', g, mod(g, 7) = 0, mod(g, 11) = 0, false,"
        " 'k' || to_hex({key}), now() - make_interval(secs => g), now()"
    )
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute(
            # Only whole numbers and fixed text are formatted into these statements.
            f"INSERT INTO gallery_asset ({columns}) SELECT {values.format(owner=heavy.pk, key='g')}"  # noqa: S608
            f" FROM generate_series(1, {heavy_rows}) AS g"
        )
        key = f"{heavy_rows} + (n - 1) * {per_user} + g"
        cursor.execute(
            f"INSERT INTO gallery_asset ({columns}) SELECT {values.format(owner='u', key=key)}"  # noqa: S608
            f" FROM generate_series(1, {per_user}) AS g CROSS JOIN unnest(%s::bigint[]) WITH ORDINALITY AS o(u, n)",
            [[user.pk for user in others]],
        )
    with connection.schema_editor() as editor:
        editor.execute("SET maintenance_work_mem = '512MB'")
        for index in Asset._meta.indexes:
            editor.add_index(Asset, index)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE gallery_asset")
    took = time.perf_counter() - started
    print(f"bulk-created {Asset.objects.count():,} assets for {users:,} users in {took:.1f} s (indexes included)")
    return heavy, took


def p50(fn, runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--per-user", type=int, default=1000)
    parser.add_argument("--deep", type=int, default=1_000_000, help="rows before the deep page")
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reload", action="store_true", help="make the rows again even if they are there")
    args = parser.parse_args()

    harness.database_ensure(DB_NAME)
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from accounts.services import api_key_create
    from gallery.models import Asset
    from gallery.pagination import encode_cursor

    call_command("migrate", verbosity=0)
    heavy, _ = load(users=args.users, per_user=args.per_user, deep=args.deep, reload=args.reload)
    _, secret = api_key_create(user=heavy, name="bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    mine = Asset.objects.filter(owner=heavy).order_by("-created_at", "-id")
    before_deep = mine.values("created_at", "id")[args.deep - 1 : args.deep].get()
    deep_cursor = encode_cursor(created_at=before_deep["created_at"], id=before_deep["id"], sort="newest")
    deep_page = args.deep // args.limit + 1

    def get(query: str):
        def call():
            response = client.get(f"/api/gallery?limit={args.limit}&{query}")
            assert response.status_code == 200, response.content
            assert len(response.json()["images"]) == args.limit

        return call

    # The deep page is the same rows either way.
    by_cursor = client.get(f"/api/gallery?limit={args.limit}&cursor={deep_cursor}").json()["images"]
    by_page = client.get(f"/api/gallery?limit={args.limit}&page={deep_page}").json()["images"]
    assert [i["id"] for i in by_cursor] == [i["id"] for i in by_page]

    figures = {
        "cursor first": p50(get("cursor="), args.runs),
        "cursor deep": p50(get(f"cursor={deep_cursor}"), args.runs),
        "page first": p50(get("page=1"), args.runs),
        "page deep": p50(get(f"page={deep_page}"), max(5, args.runs // 3)),
    }
    print(f"heavy user: {mine.count():,} assets; deep = {args.deep:,} rows; limit {args.limit}; p50 server time")
    for name, value in figures.items():
        print(f"  {name:<14} {value:8.2f} ms")
    cursor_ratio = figures["cursor deep"] / figures["cursor first"]
    page_ratio = figures["page deep"] / figures["page first"]
    print(f"deep/first by cursor: {cursor_ratio:.2f} (goal ≤ 1.5, deep ≤ 20 ms)")
    print(f"deep/first by page number: {page_ratio:.2f}")


if __name__ == "__main__":
    main()
