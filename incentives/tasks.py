"""Celery tasks of the incentives app: thin wrappers over services (schedules live in
CELERY_BEAT_SCHEDULE in the settings)."""

from datetime import date

from celery import shared_task


@shared_task
def recompute_statements(on: str | None = None) -> int:
    """Every draft statement rebuilt, and this period's created (or that of `on`, an ISO
    date); idempotent."""
    from incentives.services import statements_recompute

    return statements_recompute(on=date.fromisoformat(on) if on else None)


@shared_task
def grant_awards() -> int:
    """Top sellers and champions of the period just ended, long service, contest winners;
    each granted once however often this runs."""
    from incentives.services import awards_grant

    return awards_grant()
