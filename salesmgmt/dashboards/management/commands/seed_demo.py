from django.core.management.base import BaseCommand
from django.db import transaction

from teams import demo as teams_demo

# Each app seeds its own part of the demo company, in dependency order.
SEEDERS = [teams_demo.seed]


class Command(BaseCommand):
    help = "Loads a realistic demo company. Safe to run more than once."

    def handle(self, *args, **options):
        context: dict = {}
        with transaction.atomic():
            for seed in SEEDERS:
                context.update(seed(self.stdout.write) or {})
        self.stdout.write(self.style.SUCCESS("Demo company ready. Sign in at /login/ with:"))
        for username, what in context.get("logins", []):
            self.stdout.write(f"  {username:<12} {context['password']:<12} {what}")
