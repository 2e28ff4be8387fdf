"""Races that only a real database with row locks can show: two reps claiming one pool
account, and two workers sending follow-up reminders at once. SQLite serialises writers, so
there the same rules are checked sequentially in test_services.py."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone

from customers import services
from customers.models import Account, AccountEvent, CustomerSettings
from teams.models import Notification
from tests.customers.factories import AccountFactory, FollowUpFactory
from tests.factories import RepFactory, TeamFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs row locks of a server database"
    ),
]


def run_together(*calls):
    """Runs the calls in threads released at the same moment; returns their results or
    exceptions."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # the race's loser is part of the result
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_claim_race_exactly_one_wins(org):
    rivals = [RepFactory(team=org.east_a) for _ in range(2)]
    for _round in range(5):
        account = AccountFactory(owner=None, pool_team=org.east_a)
        results = run_together(
            *[
                (lambda rep=rep, account=account: services.account_claim(by=rep, account=account))
                for rep in rivals
            ]
        )
        winners = [result for result in results if isinstance(result, Account)]
        losers = [result for result in results if isinstance(result, ValidationError)]
        assert len(winners) == 1 and len(losers) == 1, results
        assert Account.objects.get(pk=account.pk).owner == winners[0].owner
        assert account.events.filter(kind=AccountEvent.Kind.CLAIMED).count() == 1


def test_two_reminder_workers_never_double_send(org):
    account = AccountFactory(owner=org.rep_a)
    due = timezone.now() - timedelta(minutes=5)
    followups = [FollowUpFactory(account=account, due_at=due) for _ in range(30)]
    results = run_together(
        services.send_due_followup_reminders, services.send_due_followup_reminders
    )
    assert sum(results) == len(followups), results
    assert Notification.objects.filter(kind="follow_up_due").count() == len(followups)
    assert services.send_due_followup_reminders() == 0


def test_concurrent_lead_captures_take_turns(org):
    team = TeamFactory(name="Inbound", parent=org.head_office)
    reps = [RepFactory(team=team) for _ in range(3)]
    settings_row = CustomerSettings.load()
    settings_row.lead_capture_team = team
    settings_row.save()
    results = run_together(
        *[
            (
                lambda n=n: services.lead_capture(
                    company=f"Prospect {n}", name="Wang", email=f"wang{n}@prospect{n}.cn"
                )
            )
            for n in range(6)
        ]
    )
    assert all(isinstance(result, Account) for result in results), results
    per_rep = Counter(Account.objects.filter(source="web_form").values_list("owner", flat=True))
    assert per_rep == {rep.pk: 2 for rep in reps}
