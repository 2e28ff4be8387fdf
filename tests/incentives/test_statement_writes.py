"""How the statement run writes lines: on PostgreSQL new lines go through COPY, elsewhere
through bulk_create, and both must store every value as computed (texts with tabs, quotes
and line breaks, empty values as NULL); a rebuild rewrites only the lines that changed."""

import datetime as dt
from decimal import Decimal

import pytest

from incentives import services
from incentives.models import Dispute, Statement
from pipeline.models import Deal
from tests.incentives.factories import Q1, bonus, plan, rule, won_deal

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

D = Decimal
FIELDS = ("id", "source_key", "kind", "deal_id", "rule_id", "bonus_rule_id", "corrects_id")
VALUES = ("basis", "rate", "amount", "explanation")
AWKWARD = 'Tab\there, "quoted", back\\slash'


@pytest.fixture
def setup(org):
    """rep_a wins a new account's 700,000 deal and half of a 100,000 one shared with rep_b;
    both are paid 2% of revenue, 800 per new account and 1% above 500,000."""
    people = [org.rep_a, org.rep_b]
    the_plan = plan(users=people)
    rule(the_plan, tiers=[], base_rate=D("2"))
    bonus(the_plan, kind="new_customer", amount=D("800"))
    bonus(the_plan, kind="large_deal", min_deal_amount=D("500000"), percent=D("1"))
    first = won_deal(org.rep_a, "700000", dt.date(2026, 1, 10), name=AWKWARD)
    shared = won_deal(
        org.rep_a, "100000", dt.date(2026, 2, 10), account=first.account, name="Line\nbreak"
    )
    services.deal_credits_set(by=None, deal=shared, shares=[(org.rep_a, 50), (org.rep_b, 50)])
    return {"people": people, "plan": the_plan, "first": first, "shared": shared}


def run(setup):
    people = setup["people"]
    return services.statements_compute_many(
        users=people, period=Q1, plans={person.pk: setup["plan"] for person in people}
    )


def lines_of(user) -> dict[str, tuple]:
    statement = Statement.objects.get(user=user, start=Q1[0])
    rows = statement.lines.values_list(*FIELDS, *VALUES)
    return {row[1]: row for row in rows}


def test_bulk_run_stores_every_value_as_computed(org, setup):
    first, shared = setup["first"], setup["shared"]

    assert run(setup) == 2

    lines = {key: (row[2], row[3], *row[7:]) for key, row in lines_of(org.rep_a).items()}
    rule_id = Statement.objects.get(user=org.rep_a).lines.get(kind="commission", deal=first).rule_id
    assert lines == {
        f"commission:{first.pk}:{rule_id}": (
            "commission",
            first.pk,
            D("700000.00"),
            D("2.000"),
            D("14000.00"),
            f"{AWKWARD}: 700,000 at 2%",
        ),
        f"commission:{shared.pk}:{rule_id}": (
            "commission",
            shared.pk,
            D("50000.00"),
            D("2.000"),
            D("1000.00"),
            "Line\nbreak: 50,000 at 2% (your 50% share)",
        ),
        # A fixed bonus has neither basis nor rate: NULL, not an empty value.
        f"bonus:{setup['plan'].bonuses.get(kind='new_customer').pk}:deal:{first.pk}": (
            "bonus",
            first.pk,
            None,
            None,
            D("800.00"),
            f"New Customer: {AWKWARD}, first won deal of the account: 800",
        ),
        # (700,000 - 500,000) x 1%
        f"bonus:{setup['plan'].bonuses.get(kind='large_deal').pk}:deal:{first.pk}": (
            "bonus",
            first.pk,
            None,
            D("1.000"),
            D("2000.00"),
            f"Large Deal: {AWKWARD}: 200,000 above 500,000 at 1%",
        ),
    }
    statement = Statement.objects.get(user=org.rep_a)
    assert statement.total == D("17800.00")
    assert all(row[6] is None for row in lines_of(org.rep_a).values())
    assert [row[-1] for row in lines_of(org.rep_b).values()] == [
        "Line\nbreak: 50,000 at 2% (your 50% share)"
    ]


def test_bulk_run_gives_the_lines_one_by_one_computing_gives(org, setup):
    run(setup)
    bulk = {person.pk: lines_of(person) for person in setup["people"]}
    Statement.objects.all().delete()

    for person in setup["people"]:
        services.statement_compute(user=person, period=Q1)
        one = lines_of(person)
        assert {key: row[1:] for key, row in one.items()} == {
            key: row[1:] for key, row in bulk[person.pk].items()
        }


def test_rebuild_after_one_deal_changed_rewrites_only_its_lines(org, setup):
    shared = setup["shared"]
    run(setup)
    before = {person.pk: lines_of(person) for person in setup["people"]}

    Deal.objects.filter(pk=shared.pk).update(amount=D("120000"))
    later = won_deal(org.rep_b, "10000", dt.date(2026, 3, 1), name="Later")
    run(setup)
    after = {person.pk: lines_of(person) for person in setup["people"]}

    for person in setup["people"]:
        changed = {
            key
            for key, row in after[person.pk].items()
            if key not in before[person.pk] or before[person.pk][key] != row
        }
        # Same lines, same ids, except the shared deal's commission (and rep_b's new deal).
        assert set(before[person.pk]) <= set(after[person.pk])
        assert {row[3] for key, row in after[person.pk].items() if key in changed} <= {
            shared.pk,
            later.pk,
        }
        commission = [
            (before[person.pk][key][0], row[0], row[7:10])
            for key, row in after[person.pk].items()
            if row[3] == shared.pk and row[2] == "commission"
        ]
        # Half of 120,000 at 2%, on the line it had.
        assert [(old == new, values) for old, new, values in commission] == [
            (True, (D("60000.00"), D("2.000"), D("1200.00")))
        ]
    assert len(after[org.rep_a.pk]) == len(before[org.rep_a.pk])
    assert len(after[org.rep_b.pk]) == len(before[org.rep_b.pk]) + 2  # commission, new account
    assert Statement.objects.get(user=org.rep_a).total == D("18000.00")


def test_a_rebuild_after_one_person_was_computed_alone_follows_the_deals(org, setup):
    """Computing one statement alone rewrites its lines; a later bulk rebuild must start from
    those lines, not from what the previous bulk run wrote."""
    shared = setup["shared"]
    run(setup)
    first = {person.pk: lines_of(person) for person in setup["people"]}

    Deal.objects.filter(pk=shared.pk).update(amount=D("120000"))
    services.statement_compute(user=org.rep_a, period=Q1)
    assert lines_of(org.rep_a) != first[org.rep_a.pk]
    Deal.objects.filter(pk=shared.pk).update(amount=D("100000"))
    run(setup)

    assert {person.pk: lines_of(person) for person in setup["people"]} == first
    assert Statement.objects.get(user=org.rep_a).total == D("17800.00")


def test_a_disputed_line_no_longer_due_stays_at_zero_through_bulk_rebuilds(org, setup):
    first = setup["first"]
    run(setup)
    line = Statement.objects.get(user=org.rep_a).lines.get(kind="commission", deal=first)
    services.dispute_raise(by=org.rep_a, line=line, comment="Rate should be 3%")

    Deal.objects.filter(pk=first.pk).update(status="lost", lost_reason="price")
    run(setup)
    run(setup)

    kept = Statement.objects.get(user=org.rep_a).lines.get(pk=line.pk)
    assert kept.amount == D("0.00")
    assert kept.explanation == f"No longer due: {AWKWARD}: 700,000 at 2%"
    # The lost deal's bonuses were not disputed: they are gone, and the shared deal is now
    # the account's first won one: half of 800.
    bonuses = Statement.objects.get(user=org.rep_a).lines.filter(kind="bonus")
    assert [(line.deal_id, line.amount) for line in bonuses] == [(setup["shared"].pk, D("400.00"))]
    assert Statement.objects.get(user=org.rep_a).total == D("1400.00")

    # Once the dispute is gone (an admin deleted it), so is the line.
    Dispute.objects.filter(line=kept).delete()
    run(setup)
    assert not Statement.objects.get(user=org.rep_a).lines.filter(pk=line.pk).exists()
