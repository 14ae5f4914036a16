"""Saving a new generation together with its charge.

What is written is the same on every database: the generation (straight into ``in_queue``),
its first status event, the debit of the user's balance and its ledger entry, and one more on
the user's counter of the day's generations; all or nothing, and only while the user's daily
quota has room. On PostgreSQL it is one statement: the quota (and queue) counts, the
conditional debit, the three inserts and the counter's upsert in a single round trip
(data-modifying ``WITH`` clauses), where the ORM needs eight. Other databases (the embedded
SQLite) run the same writes through the ORM in a transaction. A test holds the two equal.
"""

import functools
from dataclasses import dataclass

from django.db import connection, models, transaction
from django.db.models import F, Model

from accounts.quotas import daily_generations_refuse
from credits.models import CreditAccount, LedgerEntry
from credits.services import credits_announce_if_low, credits_debit, credits_refuse
from generation.models import DailyGenerationCount, Generation, GenerationEvent, Status
from generation.selectors import generation_submit_counts


@dataclass(frozen=True)
class Saved:
    balance_after: int
    # Generations that were waiting in its provider's queue when it was saved (if counted).
    waiting: int | None


def generation_save_charged(
    *, generation: Generation, reason: str, daily_quota: int | None, count_queue: bool = True
) -> Saved:
    """Saves the new (unsaved) generation with its status event and debit, all or nothing.

    Raises QuotaExceeded (``daily_quota`` reached; None: no quota) or InsufficientCredits
    having written nothing. ``count_queue``: also count the generations waiting in its
    provider's queue. Call it outside a transaction or inside the caller's.
    """
    save = _save_in_one_statement if connection.vendor == "postgresql" else _save_with_orm
    return save(generation=generation, reason=reason, daily_quota=daily_quota, count_queue=count_queue)


def _status_event(generation: Generation) -> GenerationEvent:
    return GenerationEvent(generation=generation, type=GenerationEvent.Type.STATUS, data={"status": Status.IN_QUEUE})


def _debit_entry(generation: Generation, reason: str) -> LedgerEntry:
    return LedgerEntry(
        user_id=generation.user_id,
        kind=LedgerEntry.Kind.DEBIT,
        amount=-generation.cost,
        balance_after=0,  # the debit's result; set by the statement
        reason=reason,
        generation=generation,
    )


def _save_with_orm(*, generation: Generation, reason: str, daily_quota: int | None, count_queue: bool = True) -> Saved:
    day = generation.queued_at.date()
    today, waiting = generation_submit_counts(
        user=generation.user, provider=generation.provider if count_queue else None, day=day
    )
    if daily_quota is not None and today >= daily_quota:
        daily_generations_refuse(limit=daily_quota)
    with transaction.atomic():
        generation.save(force_insert=True)
        _status_event(generation).save(force_insert=True)
        debit = credits_debit(user=generation.user, amount=generation.cost, reason=reason, generation=generation)
        counter, _ = DailyGenerationCount.objects.get_or_create(user_id=generation.user_id, day=day)
        DailyGenerationCount.objects.filter(pk=counter.pk).update(count=F("count") + 1)
    return Saved(balance_after=debit.balance_after, waiting=waiting)


def _insert_from(model_object: Model, *, source: str, expressions: dict[str, str] | None = None) -> tuple[str, list]:
    """``INSERT INTO <table> (<every column>) SELECT <values> FROM <source>`` for an unsaved
    object, its values prepared as the ORM would save them; ``expressions`` replace the values
    of some columns (by attribute name) with SQL over ``source``."""
    sql, fields = _insert_sql(type(model_object), source, tuple(sorted((expressions or {}).items())))
    params = []
    for field, plain in fields:
        value = field.pre_save(model_object, add=True)
        # Text, numbers and booleans go to the driver as they are; the rest as the field prepares it.
        params.append(
            value if plain and (value is None or type(value) in _PLAIN) else field.get_db_prep_save(value, connection)
        )
    return sql, params


_PLAIN = (str, int, bool)
_PLAIN_FIELDS = (models.CharField, models.TextField, models.IntegerField, models.BooleanField)


@functools.cache
def _insert_sql(model: type[Model], source: str, expressions: tuple[tuple[str, str], ...]) -> tuple[str, list]:
    """The statement of ``_insert_from`` and the fields whose values are its parameters (each
    with whether it holds plain text, numbers or booleans)."""
    by_name = dict(expressions)
    columns, values, fields = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key and field.db_returning:
            continue  # an auto-increment id: the database numbers it
        columns.append(connection.ops.quote_name(field.column))
        if field.attname in by_name:
            values.append(by_name[field.attname])
        else:
            values.append("%s")
            fields.append((field, isinstance(field, _PLAIN_FIELDS)))
    table = connection.ops.quote_name(model._meta.db_table)
    # Table and column names come from the model; every value is a parameter.
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM {source}"  # noqa: S608
    return sql, fields


def _save_in_one_statement(
    *, generation: Generation, reason: str, daily_quota: int | None, count_queue: bool = True
) -> Saved:
    generation_table = Generation._meta.db_table
    account_table = CreditAccount._meta.db_table
    day_table = DailyGenerationCount._meta.db_table
    # The event and the ledger entry take the generation's id, owner and time from its insert.
    # (Fewer parameters: psycopg caches the conversion of statements with at most 50.)
    from_generation = {"generation_id": "new_generation.id", "created_at": "new_generation.created_at"}
    insert_generation, generation_params = _insert_from(generation, source="debit")
    insert_event, event_params = _insert_from(
        _status_event(generation), source="new_generation", expressions=from_generation
    )
    insert_entry, entry_params = _insert_from(
        _debit_entry(generation, reason),
        source="debit, new_generation",
        expressions={**from_generation, "user_id": "new_generation.user_id", "balance_after": "debit.balance"},
    )
    waiting = (
        f"(SELECT COUNT(*) FROM {generation_table} WHERE status = %s AND provider = %s)"  # noqa: S608
        if count_queue
        else "NULL::bigint"
    )
    # Table and column names come from the models; every value is a parameter.
    sql = (
        "WITH args AS (SELECT %s::bigint AS user_id, %s::integer AS cost, %s::timestamptz AS now, "  # noqa: S608
        "%s::bigint AS daily_quota, %s::date AS day), "
        "counts AS (SELECT "
        f"COALESCE((SELECT d.count FROM {day_table} d, args WHERE d.user_id = args.user_id AND d.day = args.day), 0)"
        f" AS today, {waiting} AS waiting), "
        f"debit AS (UPDATE {account_table} a SET balance = a.balance - args.cost, updated_at = args.now FROM args "
        "WHERE a.user_id = args.user_id AND a.balance >= args.cost "
        "AND (args.daily_quota IS NULL OR (SELECT today FROM counts) < args.daily_quota) RETURNING a.balance), "
        f"new_generation AS ({insert_generation} RETURNING id, user_id, created_at), "
        f"status_event AS ({insert_event}), "
        f"debit_entry AS ({insert_entry}), "
        f"day_count AS (INSERT INTO {day_table} (user_id, day, count) "
        "SELECT args.user_id, args.day, 1 FROM debit, args "
        f"ON CONFLICT (user_id, day) DO UPDATE SET count = {day_table}.count + 1) "
        "SELECT counts.today, counts.waiting, debit.balance FROM counts LEFT JOIN debit ON TRUE"
    )
    params = [
        generation.user_id,
        generation.cost,
        connection.ops.adapt_datetimefield_value(generation.queued_at),
        daily_quota,
        generation.queued_at.date(),
        *([Status.IN_QUEUE.value, generation.provider] if count_queue else []),
        *generation_params,
        *event_params,
        *entry_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        today, waiting, balance = cursor.fetchone()
    if balance is None:
        # Nothing was written: the quota is used up, or the balance does not cover the cost.
        if daily_quota is not None and today >= daily_quota:
            daily_generations_refuse(limit=daily_quota)
        credits_refuse(user=generation.user, amount=generation.cost)
    generation._state.adding = False
    generation._state.db = connection.alias
    credits_announce_if_low(user_id=generation.user_id, before=balance + generation.cost, after=balance)
    return Saved(balance_after=balance, waiting=waiting)
