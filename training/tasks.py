"""Celery tasks of the training app: thin wrappers over services (schedules live in
CELERY_BEAT_SCHEDULE in the settings)."""

from celery import shared_task


@shared_task
def notify_overdue_enrollments() -> int:
    # Imported here: services enqueue mail tasks, and tasks load before the app registry.
    from training.services import notify_overdue_enrollments as notify

    return notify()
