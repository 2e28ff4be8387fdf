"""Helpers for the few reads written as plain SQL."""

from collections.abc import Callable
from functools import cache

from django.db import connection


@cache
def value_reader(field) -> Callable:
    """Turns a value that a hand-written statement read for `field` into what the ORM gives
    for it, through Django's own converters for the field and the database: SQLite, say,
    hands back a decimal as a number and a timestamp as text or naive UTC, above all from a
    compound SELECT."""
    column = field.get_col(field.model._meta.db_table)
    converters = [
        *connection.ops.get_db_converters(column),
        *column.get_db_converters(connection),
    ]

    def read(value):
        for converter in converters:
            value = converter(value, column, connection)
        return value

    return read
