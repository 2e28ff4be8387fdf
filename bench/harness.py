"""Timing helpers for the benchmarks: every figure is printed next to a baseline measured in
the same run (usually the same rows fetched with one hand-written SQL query), never against a
fixed time."""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext


@dataclass
class Timing:
    label: str
    samples: list[float]
    queries: int

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(label: str, func: Callable[[], object], *, repeat: int = 20, warmup: int = 2) -> Timing:
    for _ in range(warmup):
        func()
    samples = []
    with CaptureQueriesContext(connection) as captured:
        func()
    # Counted now: the captured list is a view of the connection's log, which the loop empties.
    queries = len(captured.captured_queries)
    for _ in range(repeat):
        reset_queries()
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return Timing(label, samples, queries)


def measure_pair(
    label: str,
    subject: Callable[[], object],
    baseline: Callable[[], object],
    *,
    repeat: int = 20,
    warmup: int = 2,
) -> tuple[Timing, Timing]:
    """Times `subject` and its `baseline` in alternation, one sample of each in turn, so that
    whatever else the machine does meanwhile falls on both alike."""
    timings = []
    for func in (subject, baseline):
        for _ in range(warmup):
            func()
        with CaptureQueriesContext(connection) as captured:
            func()
        timings.append(Timing(label, [], len(captured.captured_queries)))
    for _ in range(repeat):
        for func, timing in zip((subject, baseline), timings, strict=True):
            reset_queries()
            start = time.perf_counter()
            func()
            timing.samples.append(time.perf_counter() - start)
    return timings[0], timings[1]


def raw_sql(sql: str, params: list | tuple = ()) -> Callable[[], list]:
    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    return run


def report(title: str, subject: Timing, baseline: Timing, *, target_ratio: float) -> bool:
    """Prints one comparison line and returns whether the p95 ratio meets the target."""
    ratio = subject.p95 / baseline.p95 if baseline.p95 else float("inf")
    ok = ratio <= target_ratio
    print(
        f"{title:<44} p50 {subject.p50 * 1000:8.1f} ms  p95 {subject.p95 * 1000:8.1f} ms  "
        f"queries {subject.queries:3d} | raw SQL p50 {baseline.p50 * 1000:8.1f} ms  "
        f"p95 {baseline.p95 * 1000:8.1f} ms | ratio p95 {ratio:5.2f} "
        f"(target <= {target_ratio:g}) {'OK' if ok else 'OVER'}"
    )
    return ok


def timed(label: str):
    """Context manager printing how long a block (such as data generation) took."""

    class _Timer:
        def __enter__(self):
            self.start = time.perf_counter()
            return self

        def __exit__(self, *exc):
            print(f"{label}: {time.perf_counter() - self.start:.1f} s")

    return _Timer()
