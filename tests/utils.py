"""Query-count helpers: a list must cost the same number of SQL queries for 5 rows and for 50."""

from collections.abc import Callable
from contextlib import contextmanager

from django.db import connections
from django.test.utils import CaptureQueriesContext


@contextmanager
def count_queries(using: str = "default"):
    """Captures the queries run inside the block; `len(ctx)` is their number and
    `ctx.captured_queries` their SQL."""
    with CaptureQueriesContext(connections[using]) as ctx:
        yield ctx


def queries_of(action: Callable[[], object]) -> tuple[int, list[str]]:
    with count_queries() as ctx:
        result = action()
    status = getattr(result, "status_code", None)
    assert status in (None, 200), f"expected 200, got {status}"
    return len(ctx), [query["sql"] for query in ctx.captured_queries]


def assert_constant_queries(
    add_rows: Callable[[int], object],
    action: Callable[[], object],
    *,
    small: int = 5,
    large: int = 50,
) -> int:
    """Adds `small` rows, runs `action` (a request, say), then grows to `large` rows and runs it
    again: the number of queries must not change. Each measurement follows a warm-up run, so
    one-off caches (content types, sessions) do not count. Returns the query count."""
    add_rows(small)
    action()
    few, few_sql = queries_of(action)
    add_rows(large - small)
    action()
    many, many_sql = queries_of(action)
    assert few == many, f"{few} queries with {small} rows but {many} with {large}:\n" + "\n".join(
        many_sql[: max(many, 1)]
    )
    return few
