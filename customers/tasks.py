"""Celery tasks of the customers app: thin wrappers over services (schedules live in
CELERY_BEAT_SCHEDULE in the settings)."""

from celery import shared_task


@shared_task
def send_followup_reminders() -> int:
    # Imported here: services enqueue mail tasks, and tasks load before the app registry.
    from customers.services import send_due_followup_reminders

    return send_due_followup_reminders()


@shared_task
def recycle_pool_accounts() -> dict[str, int]:
    from customers.services import recycle_stale_accounts

    return recycle_stale_accounts()


@shared_task
def recompute_lead_scores() -> int:
    from customers.services import accounts_recompute_scores

    return accounts_recompute_scores()


@shared_task
def check_import(job_id: int) -> None:
    from customers.services import import_job_check

    import_job_check(job_id=job_id)


@shared_task
def run_import(job_id: int) -> None:
    from customers.services import import_job_run

    import_job_run(job_id=job_id)
