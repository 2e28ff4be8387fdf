import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Serves the web app together with a Celery worker and beat (on the embedded broker "
        "unless REDIS_URL is set), for local use."
    )

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport, **options):
        # Stopped by SIGTERM (kill, a process manager) as by Ctrl+C: the worker and beat stop
        # too instead of running on alone.
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        celery = [sys.executable, "-m", "celery", "-A", "salesmgmt"]
        children = [
            subprocess.Popen([*celery, "worker", "--loglevel=INFO", "--concurrency=2"]),
            subprocess.Popen(
                [*celery, "beat", "--loglevel=INFO", "--scheduler", settings.CELERY_BEAT_SCHEDULER]
            ),
        ]
        self.stdout.write(f"Celery worker and beat started (broker: {settings.CELERY_BROKER_URL})")
        try:
            # The autoreloader would restart the server in a child process and lose track of
            # the worker and beat, so it is off here.
            call_command("runserver", addrport, use_reloader=False)
        finally:
            for child in children:
                child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
