from django.core.management.base import BaseCommand
from django.db import transaction

from customers import demo as customers_demo
from incentives import demo as incentives_demo
from performance import demo as performance_demo
from pipeline import demo as pipeline_demo
from teams import demo as teams_demo
from teams.models import User
from training import demo as training_demo

# Each app seeds its own part of the demo company, in dependency order.
SEEDERS = [
    teams_demo.seed,
    customers_demo.seed,
    pipeline_demo.seed,
    performance_demo.seed,
    performance_demo.seed_reviews,
    incentives_demo.seed,
    training_demo.seed,
]


class Command(BaseCommand):
    help = "Loads a realistic demo company. Safe to run more than once."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Only seed when the database has no users yet; always print the logins.",
        )

    def handle(self, *args, if_empty=False, **options):
        if if_empty and User.objects.exists():
            self.stdout.write("The database already has data; not seeding it again.")
            logins = teams_demo.demo_logins()
        else:
            context: dict = {}
            with transaction.atomic():
                for seed in SEEDERS:
                    context.update(seed(self.stdout.write) or {})
            logins = context.get("logins", [])
        self.stdout.write(self.style.SUCCESS("Sign in at http://127.0.0.1:8000/ with:"))
        for username, what in logins:
            self.stdout.write(f"  {username:<12} {teams_demo.DEMO_PASSWORD:<12} {what}")
