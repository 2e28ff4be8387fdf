"""A real Celery worker process on Redis mails a notification (DESIGN.md §6)."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from teams.models import Notification
from tests.factories import NotificationFactory, RepFactory

pytestmark = [pytest.mark.worker]

BASE_DIR = Path(settings.BASE_DIR)


def _skip_reason() -> str | None:
    if not os.environ.get("REDIS_URL"):
        return "needs REDIS_URL: the worker test runs against a real Redis broker"
    if connection.vendor != "postgresql":
        return (
            "needs DATABASE_URL to point at PostgreSQL: a worker process cannot share "
            "the in-memory SQLite test database"
        )
    return None


def _database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{db['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):
    """Starts `celery -A salesmgmt worker` on a queue of its own, against the test database,
    mailing through the file backend into tmp_path/mail; always terminated."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    queue = f"test-worker-{uuid.uuid4().hex[:12]}"
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    log_path = tmp_path / "worker.log"
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "salesmgmt.settings",
        "DJANGO_ENV": "development",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": os.environ["REDIS_URL"],
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CONN_MAX_AGE": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "salesmgmt",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-Q",
        queue,
        "-n",
        f"{queue}@%h",
    ]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        yield {"queue": queue, "mail_dir": mail_dir, "log": log_path, "process": process}
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture
def not_eager():
    """Tasks go through the broker for this test only."""
    from salesmgmt.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


def test_a_real_worker_mails_a_notification(celery_worker_process, not_eager):
    from salesmgmt.celery import app
    from teams.tasks import send_notification_email

    assert app.conf.task_always_eager is False
    recipient = RepFactory(email="worker-test@example.com")
    notification = NotificationFactory(recipient=recipient, title="Mailed by a real worker")

    # Same as .delay(), on a queue only this worker listens to, so no other worker on the
    # shared Redis can take it.
    send_notification_email.apply_async(
        args=[notification.pk], queue=celery_worker_process["queue"]
    )

    mail_dir = celery_worker_process["mail_dir"]
    process = celery_worker_process["process"]
    deadline = time.monotonic() + 60
    mails: list[str] = []
    emailed_at = None
    while time.monotonic() < deadline:
        mails = [path.read_text() for path in mail_dir.iterdir()]
        emailed_at = Notification.objects.get(pk=notification.pk).emailed_at
        if mails and emailed_at is not None:
            break
        if process.poll() is not None:
            break
        time.sleep(0.5)

    log = celery_worker_process["log"].read_text()
    assert process.poll() is None, f"the worker exited early:\n{log}"
    assert emailed_at is not None, f"the worker did not mark the notification emailed:\n{log}"
    assert len(mails) == 1, f"expected one mail file, found {len(mails)}:\n{log}"
    assert "Subject: Mailed by a real worker" in mails[0]
    assert "worker-test@example.com" in mails[0]
