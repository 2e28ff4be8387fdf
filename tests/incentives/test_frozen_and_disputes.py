"""Approved statements never change: later deal changes become adjustment or clawback lines
in the next draft; disputes are raised by the statement's person and resolved by a manager."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from incentives import services
from incentives.models import Dispute, Statement
from pipeline.models import Deal
from teams.models import Notification
from tests.incentives.factories import Q1, Q2, plan, revenue_target, rule, won_deal

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

D = Decimal


@pytest.fixture
def setup(org):
    rep = org.rep_a
    rule(plan(users=[rep]), tier_mode="retroactive")
    revenue_target(1_000_000, user=rep)
    revenue_target(1_000_000, user=rep, period=Q2)
    big = won_deal(rep, "1000000", dt.date(2026, 2, 10), name="Big")
    small = won_deal(rep, "250000", dt.date(2026, 3, 10), name="Small")
    q1 = services.statement_compute(user=rep, period=Q1)
    assert q1.total == D("100000.00")  # 1,250,000 x 8%
    services.statement_approve(by=org.sup_a, statement=q1)
    return rep, q1, big, small


def change(deal, **fields):
    """A later change to a deal, stamped like the pipeline services stamp it."""
    Deal.objects.filter(pk=deal.pk).update(updated_at=timezone.now(), **fields)


def snapshot(statement):
    statement.refresh_from_db()
    return (
        statement.status,
        statement.total,
        list(statement.lines.values_list("id", "amount", "explanation")),
    )


def test_lost_after_won_is_a_clawback_in_the_next_draft(org, setup):
    rep, q1, big, small = setup
    frozen = snapshot(q1)
    change(small, status="lost", lost_reason="price")

    assert services.statement_compute(user=rep, period=Q1) == q1
    q2 = services.statement_compute(user=rep, period=Q2)

    assert snapshot(q1) == frozen
    # Now due for Q1 (1,000,000 = 100%, tier 100%+ at 8%): Big 80,000 (paid 80,000),
    # Small nothing (paid 20,000) -> a 20,000 clawback.
    line = q2.lines.get()
    assert (line.kind, line.amount, line.deal_id, line.corrects_id) == (
        "clawback",
        D("-20000.00"),
        small.pk,
        q1.pk,
    )
    assert q2.total == D("-20000.00")
    # Idempotent, and not repeated once the clawback is itself frozen.
    assert services.statement_compute(user=rep, period=Q2).lines.get().pk == line.pk
    services.statement_approve(by=org.sup_a, statement=q2)
    q3 = services.statement_compute(user=rep, period=(dt.date(2026, 7, 1), dt.date(2026, 9, 30)))
    assert not q3.lines.exists()


def test_amount_change_after_approval_is_an_adjustment_and_moves_tiers(org, setup):
    rep, q1, big, small = setup
    change(small, amount=D("100000"))
    # 1,100,000 is still above 100%: Small now pays 8,000 instead of 20,000.

    q2 = services.statement_compute(user=rep, period=Q2)

    line = q2.lines.get()
    assert (line.kind, line.amount) == ("adjustment", D("-12000.00"))
    assert "20,000 paid, 8,000 due" in line.explanation
    change(big, amount=D("800000"))
    # 900,000 = 90%: no tier reached (tiers start at 0, so 80-100% at 5%): Big 40,000 (paid
    # 80,000), Small 5,000 (paid 20,000).
    q2 = services.statement_compute(user=rep, period=Q2)
    assert sorted(q2.lines.values_list("amount", flat=True)) == [D("-40000.00"), D("-15000.00")]


def test_approval_is_for_managers_of_the_subtree_only(org):
    rule(plan(users=[org.rep_a, org.sup_a]), tiers=[], base_rate=D("1"))
    statement = services.statement_compute(user=org.rep_a, period=Q1)
    own = services.statement_compute(user=org.sup_a, period=Q1)
    for outsider in (org.rep_a, org.rep_b, org.sup_b, org.north_mgr):
        with pytest.raises(PermissionDenied):
            services.statement_approve(by=outsider, statement=statement)
    with pytest.raises(PermissionDenied):
        services.statement_approve(by=org.sup_a, statement=own)
    services.statement_approve(by=org.east_mgr, statement=statement)
    with pytest.raises(ValidationError):
        services.statement_approve(by=org.east_mgr, statement=statement)
    with pytest.raises(PermissionDenied):
        services.statement_mark_paid(by=org.east_mgr, statement=statement)
    services.statement_mark_paid(by=org.admin, statement=statement)
    statement.refresh_from_db()
    assert statement.status == Statement.Status.PAID
    assert (statement.approved_by, statement.paid_by) == (org.east_mgr, org.admin)


def test_accepted_dispute_adds_an_adjustment_to_the_next_open_statement(org, setup):
    rep, q1, big, small = setup
    line = q1.lines.get(deal=small)
    with pytest.raises(PermissionDenied):
        services.dispute_raise(by=org.rep_b, line=line, comment="Mine")
    with pytest.raises(ValidationError):
        services.dispute_raise(by=rep, line=line, comment="  ")
    dispute = services.dispute_raise(by=rep, line=line, comment="Signed in March, rate was 9%")
    assert Notification.objects.filter(recipient=org.sup_a, kind="dispute_raised").exists()

    with pytest.raises(PermissionDenied):
        services.dispute_resolve(by=rep, dispute=dispute, accept=True, resolution="x", adjustment=1)
    with pytest.raises(ValidationError) as error:
        services.dispute_resolve(by=org.sup_a, dispute=dispute, accept=True, resolution="ok")
    assert "adjustment" in error.value.message_dict
    services.dispute_resolve(
        by=org.sup_a, dispute=dispute, accept=True, resolution="Agreed", adjustment=D("2500")
    )

    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.ACCEPTED
    # No draft yet: the adjustment opens the statement of the current period.
    following = Statement.objects.get(user=rep, status="draft")
    assert following.start > q1.end
    adjustment = following.lines.get()
    assert (adjustment.kind, adjustment.amount, adjustment.corrects_id) == (
        "adjustment",
        D("2500.00"),
        q1.pk,
    )
    assert q1.lines.count() == 2 and Statement.objects.get(pk=q1.pk).total == D("100000.00")
    assert Notification.objects.filter(recipient=rep, kind="dispute_resolved").exists()
    assert Notification.objects.filter(recipient=org.sup_a, kind="dispute_resolved").exists()


def test_rejected_dispute_needs_a_reason_and_changes_nothing(org, setup):
    rep, q1, big, small = setup
    dispute = services.dispute_raise(by=rep, line=q1.lines.first(), comment="Too low")
    with pytest.raises(ValidationError):
        services.dispute_resolve(by=org.east_mgr, dispute=dispute, accept=False, resolution="")
    services.dispute_resolve(
        by=org.east_mgr, dispute=dispute, accept=False, resolution="The plan says 8%"
    )
    dispute.refresh_from_db()
    assert (dispute.status, dispute.adjustment) == (Dispute.Status.REJECTED, None)
    assert not Statement.objects.filter(user=rep, status="draft").exists()


def test_a_disputed_draft_line_that_is_no_longer_due_stays_at_zero(org):
    rep = org.rep_a
    rule(plan(users=[rep]), tiers=[], base_rate=D("10"))
    deal = won_deal(rep, "1000", dt.date(2026, 2, 1), name="Gone")
    statement = services.statement_compute(user=rep, period=Q1)
    line = statement.lines.get()
    dispute = services.dispute_raise(by=rep, line=line, comment="Should be 12%")
    change(deal, status="lost", lost_reason="price")

    statement = services.statement_compute(user=rep, period=Q1)

    line.refresh_from_db()
    assert (line.amount, line.explanation) == (D("0.00"), "No longer due: Gone: 1,000 at 10%")
    assert statement.total == D("0.00")
    assert Dispute.objects.get(pk=dispute.pk).line_id == line.pk


def test_estimate_counts_the_lift_of_a_retroactive_tier(org):
    from incentives.selectors import commission_estimate

    rep = org.rep_a
    rule(plan(users=[rep]), tier_mode="retroactive")
    revenue_target(1_000_000, user=rep)
    won_deal(rep, "900000", dt.date(2026, 2, 1))
    candidate = won_deal(rep, "200000", dt.date(2026, 2, 2), name="Candidate")
    Deal.objects.filter(pk=candidate.pk).update(status="open", closed_at=None)
    candidate.refresh_from_db()

    estimate = commission_estimate(deal=candidate, user=rep, on=dt.date(2026, 2, 20))

    # Now 900,000 (90%) at 5% = 45,000; with it 1,100,000 (110%) at 8% = 88,000.
    assert estimate["amount"] == D("43000.00")
    assert estimate["attainment_now"] == D("90") and estimate["attainment_if_won"] == D("110")
    assert (
        estimate["lines"][0].explanation
        == "Candidate: 200,000 at 8% (tier above 100%, retroactive)"
    )
