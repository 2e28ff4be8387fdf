"""Celery tasks of the pipeline app: thin wrappers over services (schedules live in
CELERY_BEAT_SCHEDULE in the settings)."""

from datetime import date

from celery import shared_task


@shared_task
def check_first_contact_sla() -> int:
    # Imported here: services enqueue mail tasks, and tasks load before the app registry.
    from pipeline.services import check_first_contact_sla as run

    return run()


@shared_task
def notify_stale_deals() -> int:
    from pipeline.services import notify_stale_deals as run

    return run()


@shared_task
def funnel_rollup(day: str | None = None) -> int:
    """Yesterday's funnel snapshot, or that of `day` (ISO date) to backfill."""
    from pipeline.services import funnel_rollup as run

    return run(day=date.fromisoformat(day) if day else None)


@shared_task
def forecast_rollup() -> int:
    from pipeline.services import forecast_rollup as run

    return run()
