"""`seed_demo` adds the demo customers: deterministic, consistent and safe to run twice."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db.models import Count, Max
from django.utils import timezone

from customers import scoring, selectors
from customers.models import Account, Contact, FollowUp, Interaction, LeadScoringRule, Tag
from teams.models import Role, User

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_adds_customers_once_and_consistently():
    output = seed()
    assert "300 accounts" in output
    counts = (
        Account.objects.count(),
        Contact.objects.count(),
        Interaction.objects.count(),
        FollowUp.objects.count(),
    )
    assert counts[0] == 300 and counts[1] == 600 and counts[2] == 2000
    seed()
    assert (
        Account.objects.count(),
        Contact.objects.count(),
        Interaction.objects.count(),
        FollowUp.objects.count(),
    ) == counts

    # Chinese and English names, every account with exactly one primary contact.
    names = list(Account.objects.values_list("name", flat=True))
    assert any(not name.isascii() for name in names) and any(name.isascii() for name in names)
    assert Account.objects.filter(industry__isnull=False, region__isnull=False).count() == 300
    primaries = Contact.objects.filter(is_primary=True).values("account").annotate(n=Count("pk"))
    assert primaries.count() == 300 and {row["n"] for row in primaries} == {1}
    assert Tag.objects.exists() and LeadScoringRule.objects.filter(active=True).count() >= 3

    # Every rep owns accounts, logs interactions and has follow-ups in each bucket.
    now = timezone.now()
    for rep in User.objects.filter(role=Role.REP):
        assert Account.objects.filter(owner=rep).exists(), rep.username
        assert Interaction.objects.filter(logged_by=rep).exists(), rep.username
        buckets = selectors.my_followups(user=rep, now=now)
        assert buckets.overdue and buckets.upcoming, rep.username
    assert Interaction.objects.filter(occurred_at__lt=now - timedelta(days=120)).exists()
    assert not Interaction.objects.filter(occurred_at__gt=now).exists()

    # Each region has a few accounts in its pool, which its reps can see and claim.
    pool = Account.objects.in_pool()
    assert pool.count() == 18
    east_rep = User.objects.get(username="east_rep1")
    assert selectors.pool_list(viewer=east_rep).exists()

    # Stored last-contacted times and scores agree with the data.
    latest = dict(
        Interaction.objects.values("account")
        .annotate(m=Max("occurred_at"))
        .values_list("account", "m")
    )
    for account in Account.objects.all()[:300]:
        assert account.last_contacted_at == latest.get(account.pk)
    for account in Account.objects.all()[:40]:
        result = scoring.evaluate(account)
        assert (account.lead_score, account.tier) == (result.score, result.tier)
