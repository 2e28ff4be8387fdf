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


def _measure_in_turns(
    funcs: list[tuple[str, Callable[[], object]]], *, repeat: int, warmup: int
) -> list[Timing]:
    """Warms each function up and counts its queries, then takes one timed sample of each
    in turn, `repeat` times."""
    timings = []
    for label, func in funcs:
        for _ in range(warmup):
            func()
        with CaptureQueriesContext(connection) as captured:
            func()
        # Counted now: the captured list is a view of the connection's log, which the loop
        # empties.
        timings.append(Timing(label, [], len(captured.captured_queries)))
    for _ in range(repeat):
        for (_label, func), timing in zip(funcs, timings, strict=True):
            reset_queries()
            start = time.perf_counter()
            func()
            timing.samples.append(time.perf_counter() - start)
    return timings


def measure(label: str, func: Callable[[], object], *, repeat: int = 20, warmup: int = 2) -> Timing:
    (timing,) = _measure_in_turns([(label, func)], repeat=repeat, warmup=warmup)
    return timing


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
    subject_timing, baseline_timing = _measure_in_turns(
        [(label, subject), ("baseline", baseline)], repeat=repeat, warmup=warmup
    )
    return subject_timing, baseline_timing


def raw_sql(sql: str, params: list | tuple = ()) -> Callable[[], list]:
    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    return run


def report(title: str, subject: Timing, baseline: Timing, *, target_ratio: float | None) -> bool:
    """Prints one comparison line and returns whether the p95 ratio meets the target; a line
    with no target (None) is shown for information and always passes."""
    ratio = subject.p95 / baseline.p95 if baseline.p95 else float("inf")
    ok = target_ratio is None or ratio <= target_ratio
    verdict = (
        "(no target)"
        if target_ratio is None
        else f"(target <= {target_ratio:g}) {'OK' if ok else 'OVER'}"
    )
    print(
        f"{title:<44} p50 {subject.p50 * 1000:8.1f} ms  p95 {subject.p95 * 1000:8.1f} ms  "
        f"queries {subject.queries:3d} | raw SQL p50 {baseline.p50 * 1000:8.1f} ms  "
        f"p95 {baseline.p95 * 1000:8.1f} ms | ratio p95 {ratio:5.2f} {verdict}"
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
