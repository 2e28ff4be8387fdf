"""Deal rules: entry criteria, won and lost, reopening, skipping and moving back, history
with days in stage, optimistic locking, assignment rules, SLA and stale notices, and the
hooks for merging accounts and reassigning a leaver's work."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from customers import services as customer_services
from customers.models import Account
from pipeline import services
from pipeline.models import AssignmentRule, Deal, Pipeline, PipelineSettings, StageChange
from teams import services as team_services
from teams.models import Notification
from tests.customers.factories import (
    AccountFactory,
    ContactFactory,
    IndustryFactory,
    InteractionFactory,
    RegionFactory,
)
from tests.factories import RepFactory
from tests.pipeline.factories import (
    AssignmentRuleFactory,
    CompetitorFactory,
    DealFactory,
    ProductCategoryFactory,
    default_stages,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def stages(db):
    return default_stages()


def ready_for_demo(deal):
    """Fields and checklist the demo stage asks for (contact, amount, product category,
    decision maker and budget)."""
    return {
        "values": {
            "contact": ContactFactory(account=deal.account),
            "product_category": ProductCategoryFactory(),
        },
        "checklist": ["Decision maker identified", "Budget confirmed"],
    }


def test_the_default_pipeline_is_bilingual_with_six_stages(stages):
    pipeline = Pipeline.objects.get(is_default=True)
    rows = [
        (s.name, s.name_zh, s.win_probability, s.is_won, s.is_lost)
        for s in pipeline.stages.order_by("order")
    ]
    assert rows == [
        ("Lead discovery", "潜在客户挖掘", 10, False, False),
        ("Needs analysis", "需求调研", 25, False, False),
        ("Demo", "产品演示", 50, False, False),
        ("Proposal and negotiation", "报价与谈判", 75, False, False),
        ("Contract signed", "合同签订", 100, True, False),
        ("Lost", "丢单", 0, False, True),
    ]
    from django.utils import translation

    with translation.override("zh-hans"):
        assert str(stages["demo"]) == "产品演示"


def test_only_one_pipeline_is_the_default(org, stages):
    second = Pipeline(name="Channel", is_default=True)
    services.pipeline_save(by=org.admin, pipeline=second)
    assert list(Pipeline.objects.filter(is_default=True)) == [second]
    second.is_default = False
    with pytest.raises(ValidationError):
        services.pipeline_save(by=org.admin, pipeline=second)
    with pytest.raises(PermissionDenied):
        services.pipeline_save(by=org.rep_a, pipeline=Pipeline(name="Mine"))


def test_create_starts_in_the_first_stage_and_records_it(org, stages):
    deal = DealFactory(account=AccountFactory(owner=org.rep_a))
    assert deal.stage == stages["lead_discovery"]
    assert deal.status == Deal.Status.OPEN and deal.version == 1
    assert deal.stage_due_at == deal.stage_entered_at + timedelta(days=14)
    (change,) = deal.stage_changes.all()
    assert (change.kind, change.from_stage, change.to_stage) == ("created", None, deal.stage)
    # Created by the system for rep_a: rep_a is told.
    assert Notification.objects.filter(recipient=org.rep_a, kind="deal_assigned").count() == 1


def test_a_move_lists_everything_missing_and_changes_nothing(org, stages):
    deal = DealFactory(account=AccountFactory(owner=org.rep_a), amount=None)
    with pytest.raises(ValidationError) as error:
        services.deal_move(by=org.rep_a, deal=deal, stage=stages["demo"])
    assert set(error.value.message_dict) == {"contact", "amount", "product_category", "checklist"}
    assert error.value.message_dict["checklist"] == ["Budget confirmed"]
    deal.refresh_from_db()
    assert deal.stage == stages["lead_discovery"] and deal.version == 1
    assert deal.stage_changes.count() == 1


def test_missing_values_given_in_the_same_move_are_saved(org, stages):
    deal = DealFactory(account=AccountFactory(owner=org.rep_a), amount=None)
    given = ready_for_demo(deal)
    given["values"]["amount"] = Decimal("50000.00")
    moved = services.deal_move(by=org.rep_a, deal=deal, stage=stages["demo"], **given)
    deal.refresh_from_db()
    assert deal.stage == stages["demo"] and deal.amount == Decimal("50000.00")
    assert deal.contact == given["values"]["contact"]
    assert deal.confirmed_checklist == ["Budget confirmed", "Decision maker identified"] or set(
        deal.confirmed_checklist
    ) == {"Budget confirmed", "Decision maker identified"}
    assert deal.forecast_category == "best_case" and moved.version == 2


def test_skip_forward_and_back_record_days_in_each_stage(org, stages):
    start = timezone.now() - timedelta(days=10)
    deal = DealFactory(account=AccountFactory(owner=org.rep_a), now=start)
    given = ready_for_demo(deal)
    services.deal_move(
        by=org.rep_a, deal=deal, stage=stages["demo"], now=start + timedelta(days=3), **given
    )
    services.deal_move(
        by=org.rep_a,
        deal=deal,
        stage=stages["needs_analysis"],
        now=start + timedelta(days=4, hours=12),
    )
    history = list(deal.stage_changes.order_by("changed_at"))
    assert [(c.kind, c.from_stage, c.to_stage, c.days_in_previous_stage) for c in history] == [
        ("created", None, stages["lead_discovery"], None),
        ("move", stages["lead_discovery"], stages["demo"], Decimal("3.00")),
        ("move", stages["demo"], stages["needs_analysis"], Decimal("1.50")),
    ]


def test_won_needs_a_close_date_and_lost_a_reason(org, stages):
    deal = DealFactory(account=AccountFactory(owner=org.rep_a))
    with pytest.raises(ValidationError) as error:
        services.deal_move(by=org.rep_a, deal=deal, stage=stages["contract_signed"])
    assert "closed_at" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.deal_move(by=org.rep_a, deal=deal, stage=stages["lost"])
    assert set(error.value.message_dict) == {"lost_reason"}
    lost = services.deal_move(
        by=org.rep_a, deal=deal, stage=stages["lost"], lost_reason=Deal.LostReason.PRICE
    )
    assert lost.status == Deal.Status.LOST and lost.closed_at == timezone.localdate()
    assert lost.stage_due_at is None

    other = DealFactory(account=AccountFactory(owner=org.rep_a))
    won = services.deal_move(
        by=org.rep_a, deal=other, stage=stages["contract_signed"], closed_at=date(2026, 11, 20)
    )
    assert (won.status, won.closed_at, won.forecast_category) == (
        "won",
        date(2026, 11, 20),
        "closed",
    )
    assert other.stage_changes.last().kind == StageChange.Kind.WON


def test_closed_deals_do_not_move_but_reopen(org, stages):
    deal = DealFactory(account=AccountFactory(owner=org.rep_a))
    services.deal_move(by=org.rep_a, deal=deal, stage=stages["lost"], lost_reason="timing")
    with pytest.raises(ValidationError):
        services.deal_move(by=org.rep_a, deal=deal, stage=stages["needs_analysis"])
    reopened = services.deal_reopen(by=org.rep_a, deal=deal)
    assert reopened.status == Deal.Status.OPEN and reopened.stage == stages["lead_discovery"]
    assert reopened.closed_at is None and reopened.lost_reason == ""
    assert [c.kind for c in deal.stage_changes.order_by("changed_at", "id")] == [
        "created",
        "lost",
        "reopen",
    ]
    with pytest.raises(ValidationError):
        services.deal_reopen(by=org.rep_a, deal=deal)


def test_only_the_owner_or_their_managers_write(org, stages):
    deal = DealFactory(account=AccountFactory(owner=org.rep_a))
    with pytest.raises(PermissionDenied):
        services.deal_update(by=org.rep_b, deal=deal, name="Mine now")
    services.deal_update(by=org.sup_a, deal=deal, name="Checked by the supervisor")
    with pytest.raises(PermissionDenied):
        services.deal_move(by=org.north_mgr, deal=deal, stage=stages["needs_analysis"])


def test_the_owner_must_be_in_the_writers_visible_set(org, stages):
    account = AccountFactory(owner=org.rep_a)
    with pytest.raises(ValidationError):
        services.deal_create(by=org.rep_a, name="Push", account=account, owner=org.rep_north)


def test_a_stale_version_is_refused_and_nothing_is_written(org, stages):
    deal = DealFactory(account=AccountFactory(owner=org.rep_a))
    services.deal_update(by=org.rep_a, deal=deal, expected_version=1, name="First writer")
    with pytest.raises(services.StaleVersionError) as error:
        services.deal_update(by=org.rep_a, deal=deal, expected_version=1, amount=Decimal("1"))
    assert error.value.current_version == 2
    deal.refresh_from_db()
    assert (deal.name, deal.amount, deal.version) == ("First writer", Decimal("100000.00"), 2)
    with pytest.raises(services.StaleVersionError):
        services.deal_move(
            by=org.rep_a, deal=deal, stage=stages["needs_analysis"], expected_version=1
        )


def test_a_write_between_read_and_update_loses(org, stages):
    """The conditional UPDATE itself refuses a version that moved after the read."""
    deal = DealFactory(account=AccountFactory(owner=org.rep_a))
    read = Deal.objects.get(pk=deal.pk)
    Deal.objects.filter(pk=deal.pk).update(version=5)
    read.name = "Late"
    with pytest.raises(services.StaleVersionError):
        services._save_versioned(read, 1, timezone.now())
    assert Deal.objects.get(pk=deal.pk).name != "Late"


# Assignment


def test_the_first_matching_active_rule_in_order_assigns(org, stages):
    industry, region = IndustryFactory(), RegionFactory()
    AssignmentRuleFactory(order=1, active=False, user=org.rep_north)
    AssignmentRuleFactory(order=2, industry=industry, region=region, user=org.rep_b)
    AssignmentRuleFactory(order=3, industry=industry, user=org.rep_a1)
    AssignmentRuleFactory(order=4, user=org.rep_east)
    account = AccountFactory(owner=org.rep_a, industry=industry, region=region)
    deal = services.deal_create(by=org.admin, name="Rules", account=account)
    assert deal.owner == org.rep_b
    assert Notification.objects.filter(recipient=org.rep_b, kind="deal_assigned").exists()
    only_industry = AccountFactory(owner=org.rep_a, industry=industry)
    assert services.deal_create(by=None, name="x", account=only_industry).owner == org.rep_a1
    plain = AccountFactory(owner=org.rep_a)
    assert services.deal_create(by=None, name="y", account=plain).owner == org.rep_east


def test_rules_match_source_size_and_product_category(org, stages):
    category = ProductCategoryFactory()
    AssignmentRuleFactory(order=1, source="web_form", size_band=200, user=org.rep_b)
    AssignmentRuleFactory(order=2, product_category=category, user=org.rep_a1)
    big = AccountFactory(owner=org.rep_a, size_band=200)
    assert (
        services.deal_create(by=None, name="a", account=big, source="web_form").owner == org.rep_b
    )
    # No rule matches and no writer: the account's owner.
    assert services.deal_create(by=None, name="b", account=big, source="manual").owner == org.rep_a
    assert (
        services.deal_create(
            by=None, name="c", account=big, product_category=category, amount=Decimal(1)
        ).owner
        == org.rep_a1
    )


def test_round_robin_takes_turns_and_the_pointer_is_stored(org, stages):
    team = org.east_b
    reps = [org.rep_b, RepFactory(team=team), RepFactory(team=team)]
    rule = AssignmentRuleFactory(action=AssignmentRule.Action.ROUND_ROBIN, team=team)
    account = AccountFactory(owner=org.rep_a)
    owners = [services.deal_create(by=None, name=f"rr{n}", account=account).owner for n in range(7)]
    ordered = sorted(reps, key=lambda user: user.pk)
    assert owners == [ordered[n % 3] for n in range(7)]
    rule.refresh_from_db()
    assert rule.last_assignee == ordered[0]


def test_least_loaded_picks_the_fewest_open_deals(org, stages):
    team = org.east_b
    busy, idle = org.rep_b, RepFactory(team=team)
    for n in range(2):
        DealFactory(account=AccountFactory(owner=busy), owner=busy, name=f"busy{n}")
    closed = DealFactory(account=AccountFactory(owner=idle), owner=idle)
    services.deal_move(by=None, deal=closed, stage=stages["lost"], lost_reason="price")
    AssignmentRuleFactory(action=AssignmentRule.Action.LEAST_LOADED, team=team)
    account = AccountFactory(owner=org.rep_a)
    owners = [services.deal_create(by=None, name=f"ll{n}", account=account).owner for n in range(3)]
    # idle has 0 open (the lost one does not count), busy 2: idle, idle, then the tie goes
    # to the lower id.
    assert owners[:2] == [idle, idle]
    assert owners[2] == min([busy, idle], key=lambda user: user.pk)


# SLAs


def test_first_contact_sla_alerts_the_manager_once(org, stages, settings):
    now = timezone.now()
    lead = AccountFactory(owner=org.rep_a, status=Account.Status.LEAD)
    contacted = AccountFactory(owner=org.rep_a, status=Account.Status.LEAD)
    InteractionFactory(account=contacted)
    Account.objects.filter(pk__in=[lead.pk, contacted.pk]).update(
        created_at=now - timedelta(hours=30)
    )
    deal = DealFactory(account=AccountFactory(owner=org.rep_a, status=Account.Status.CUSTOMER))
    Deal.objects.filter(pk=deal.pk).update(created_at=now - timedelta(hours=25))
    fresh = DealFactory(account=AccountFactory(owner=org.rep_a))
    assert fresh

    assert services.check_first_contact_sla(now=now) == 2
    assert services.check_first_contact_sla(now=now + timedelta(minutes=15)) == 0
    alerts = Notification.objects.filter(kind="first_contact_sla")
    assert alerts.count() == 2
    assert set(alerts.values_list("recipient", flat=True)) == {org.sup_a.pk}


def test_the_sla_hours_are_an_admin_setting(org, stages):
    row = PipelineSettings.load()
    row.first_contact_sla_hours = 48
    services.config_save(by=org.admin, instance=row)
    now = timezone.now()
    deal = DealFactory(account=AccountFactory(owner=org.rep_a, status=Account.Status.CUSTOMER))
    Deal.objects.filter(pk=deal.pk).update(created_at=now - timedelta(hours=30))
    assert services.check_first_contact_sla(now=now) == 0
    assert services.check_first_contact_sla(now=now + timedelta(hours=20)) == 1


def test_stale_deals_notify_once_per_stage_visit(org, stages):
    start = timezone.now() - timedelta(days=20)
    deal = DealFactory(account=AccountFactory(owner=org.rep_a), now=start)
    fine = DealFactory(account=AccountFactory(owner=org.rep_a))
    assert fine
    now = timezone.now()
    assert services.notify_stale_deals(now=now) == 1
    assert services.notify_stale_deals(now=now) == 0
    assert Notification.objects.filter(kind="deal_stale", recipient=org.rep_a).count() == 1
    # A new stage visit that also runs over its SLA gets its own notice.
    services.deal_move(
        by=org.rep_a,
        deal=deal,
        stage=stages["needs_analysis"],
        values={"contact": ContactFactory(account=deal.account)},
        checklist=["Decision maker identified"],
        now=start + timedelta(days=15),
    )
    assert services.notify_stale_deals(now=now) == 0
    # A month on, the moved deal's new visit and `fine` are both overdue.
    assert services.notify_stale_deals(now=now + timedelta(days=30)) == 2
    assert Notification.objects.filter(kind="deal_stale").count() == 3


def test_a_changed_sla_moves_the_stale_date(org, stages):
    deal = DealFactory(account=AccountFactory(owner=org.rep_a))
    stage = stages["lead_discovery"]
    stage.sla_days = 2
    services.stage_save(by=org.admin, stage=stage)
    deal.refresh_from_db()
    assert deal.stage_due_at == deal.stage_entered_at + timedelta(days=2)


# Hooks


def test_merging_accounts_moves_their_deals(org, stages):
    survivor = AccountFactory(owner=org.rep_a, name="Alpha Ltd")
    merged = AccountFactory(owner=org.rep_a, name="Alpha Limited")
    deal = DealFactory(account=merged)
    record = customer_services.accounts_merge(by=org.sup_a, survivor=survivor, merged=merged)
    deal.refresh_from_db()
    assert deal.account == survivor and record.counts["deals"] == 1


def test_a_leavers_open_deals_move_and_closed_ones_stay(org, stages):
    open_deal = DealFactory(account=AccountFactory(owner=org.rep_a))
    won = DealFactory(account=AccountFactory(owner=org.rep_a))
    services.deal_move(by=None, deal=won, stage=stages["contract_signed"], closed_at=date.today())
    transfer = team_services.user_reassign_ownership(
        by=org.admin, from_user=org.rep_a, to_user=org.rep_b
    )
    assert transfer.counts["deals"] == 1
    assert Deal.objects.get(pk=open_deal.pk).owner == org.rep_b
    assert Deal.objects.get(pk=won.pk).owner == org.rep_a


def test_delete_is_soft(org, stages):
    deal = DealFactory(account=AccountFactory(owner=org.rep_a))
    services.deal_delete(by=org.rep_a, deal=deal)
    assert not Deal.objects.filter(pk=deal.pk).exists()
    assert Deal.all_objects.get(pk=deal.pk).deleted_at is not None


def test_competitors_can_be_required_and_given_on_the_move(org, stages):
    stage = stages["needs_analysis"]
    stage.required_fields = ["contact", "competitors"]
    services.stage_save(by=org.admin, stage=stage)
    deal = DealFactory(account=AccountFactory(owner=org.rep_a))
    with pytest.raises(ValidationError) as error:
        services.deal_move(by=org.rep_a, deal=deal, stage=stage)
    assert {"contact", "competitors", "checklist"} == set(error.value.message_dict)
    rival = CompetitorFactory()
    services.deal_move(
        by=org.rep_a,
        deal=deal,
        stage=stage,
        values={"contact": ContactFactory(account=deal.account), "competitors": [rival]},
        checklist=["Decision maker identified"],
    )
    assert list(deal.competitors.all()) == [rival]
