"""Appending to a JSON list column in the UPDATE itself, without reading the row first."""

import json

from django.db.models import F, Func, JSONField


class JSONAppend(Func):
    """``column`` with ``item`` added at its end, e.g. ``update(logs=JSONAppend("logs", line))``.

    One statement, so concurrent appends never lose each other's items and need no row lock
    held across a read and a write.
    """

    def __init__(self, column: str, item) -> None:
        super().__init__(F(column), output_field=JSONField())
        self.item = item

    def as_postgresql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        return f"({column} || %s::jsonb)", [*params, json.dumps([self.item])]

    def as_sqlite(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        return f"json_insert({column}, '$[#]', json(%s))", [*params, json.dumps(self.item)]

    def as_sql(self, compiler, connection, **extra):
        raise NotImplementedError(f"JSONAppend supports PostgreSQL and SQLite, not {connection.vendor}")
