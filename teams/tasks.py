from celery import shared_task


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def send_notification_email(self, notification_id: int) -> bool:
    # services enqueue this task, so they are imported here to avoid an import cycle.
    from teams.services import notification_send_email

    try:
        return notification_send_email(notification_id=notification_id)
    except OSError as exc:
        raise self.retry(exc=exc) from exc
