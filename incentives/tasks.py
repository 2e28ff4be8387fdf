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
