"""Celery tasks of the performance app: thin wrappers over services (schedules live in
CELERY_BEAT_SCHEDULE in the settings)."""

from celery import shared_task

# Reviews, 360 feedback and improvement plans


@shared_task
def remind_due_improvement_actions() -> int:
    # Imported here: services enqueue mail tasks, and tasks load before the app registry.
    from performance.services import remind_due_improvement_actions as remind

    return remind()
