"""Races that only a real database with row locks can show: concurrent deal creation by a
round-robin rule, and two writers with one version. SQLite serialises writers, so there
the same rules are checked sequentially in test_services.py."""

import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection, connections

from pipeline import services
from pipeline.models import AssignmentRule, Deal
from tests.customers.factories import AccountFactory
from tests.factories import RepFactory, TeamFactory
from tests.pipeline.factories import AssignmentRuleFactory, DealFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs row locks of a server database"
    ),
]


def run_together(*calls):
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


def test_concurrent_creations_share_round_robin_fairly(org):
    team = TeamFactory(name="Inbound", parent=org.head_office)
    reps = [RepFactory(team=team) for _ in range(3)]
    AssignmentRuleFactory(action=AssignmentRule.Action.ROUND_ROBIN, team=team)
    account = AccountFactory(owner=org.rep_a)
    results = run_together(
        *[
            (lambda n=n: services.deal_create(by=None, name=f"Race {n}", account=account))
            for n in range(9)
        ]
    )
    assert all(isinstance(result, Deal) for result in results), results
    assert Counter(Deal.objects.values_list("owner", flat=True)) == {rep.pk: 3 for rep in reps}


def test_concurrent_least_loaded_creations_even_out(org):
    team = TeamFactory(name="Inbound", parent=org.head_office)
    reps = [RepFactory(team=team) for _ in range(3)]
    AssignmentRuleFactory(action=AssignmentRule.Action.LEAST_LOADED, team=team)
    account = AccountFactory(owner=org.rep_a)
    results = run_together(
        *[
            (lambda n=n: services.deal_create(by=None, name=f"Race {n}", account=account))
            for n in range(6)
        ]
    )
    assert all(isinstance(result, Deal) for result in results), results
    assert Counter(Deal.objects.values_list("owner", flat=True)) == {rep.pk: 2 for rep in reps}


def test_two_writers_with_one_version_exactly_one_wins(org):
    deal = DealFactory(account=AccountFactory(owner=org.rep_a))
    for round_ in range(5):
        version = Deal.objects.get(pk=deal.pk).version
        results = run_together(
            lambda version=version, round_=round_: services.deal_update(
                by=org.rep_a, deal=deal, expected_version=version, name=f"A{round_}"
            ),
            lambda version=version, round_=round_: services.deal_update(
                by=org.sup_a,
                deal=deal,
                expected_version=version,
                amount=Decimal(round_ + 1),
            ),
        )
        winners = [result for result in results if isinstance(result, Deal)]
        losers = [result for result in results if isinstance(result, services.StaleVersionError)]
        assert len(winners) == 1 and len(losers) == 1, results
        fresh = Deal.objects.get(pk=deal.pk)
        assert fresh.version == version + 1
        assert (fresh.name == f"A{round_}") != (fresh.amount == Decimal(round_ + 1))
