from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from customers import selectors, services
from customers.models import (
    Account,
    AccountEvent,
    AccountMerge,
    Contact,
    CustomerSettings,
    FollowUp,
    Interaction,
    LeadScoringRule,
)
from teams import services as team_services
from teams.models import Notification, OwnershipTransfer, User
from tests.customers.factories import (
    AccountFactory,
    ContactFactory,
    FollowUpFactory,
    IndustryFactory,
    InteractionFactory,
    LeadScoringRuleFactory,
    TagFactory,
)
from tests.factories import RepFactory, TeamFactory

pytestmark = pytest.mark.django_db


# Creating and duplicates


def test_account_create_fills_search_keys_and_defaults_owner_to_writer(org):
    account = services.account_create(
        by=org.rep_a, name="华为技术有限公司", phone="+86 138-0013-8000"
    )
    assert account.owner == org.rep_a
    assert account.pool_team == org.east_a
    assert account.name_normalized == "华为技术"
    assert account.name_pinyin == "huaweijishuyouxiangongsi"
    assert account.name_initials == "hwjsyxgs"
    assert account.phone_digits == "13800138000"
    assert account.events.filter(kind=AccountEvent.Kind.CREATED).exists()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "华为技术"},
        {"name": "Other name", "phone": "13800138000"},
        {"name": "Other name", "email": "sales@huawei.com"},
        {"name": "Other name", "website": "https://www.huawei.com/cn"},
    ],
)
def test_duplicate_by_name_phone_or_domain_is_refused_with_the_matches(org, kwargs):
    existing = services.account_create(
        by=org.rep_a, name="华为技术有限公司", phone="+86 13800138000", email="info@huawei.com"
    )
    with pytest.raises(services.DuplicateAccountError) as caught:
        services.account_create(by=org.rep_a, **kwargs)
    assert caught.value.matches == [existing]
    assert "name" in caught.value.message_dict
    created = services.account_create(by=org.rep_a, allow_duplicate=True, **kwargs)
    assert created.pk != existing.pk


def test_duplicate_found_through_a_contact_phone(org):
    contact = ContactFactory(account=AccountFactory(owner=org.rep_a), mobile="13900001111")
    matches = selectors.duplicates_for(viewer=org.rep_a, name="x", phone="139-0000-1111")
    assert list(matches) == [contact.account]


def test_free_mail_domains_are_not_duplicates(org):
    services.account_create(by=org.rep_a, name="Alpha", email="boss@qq.com")
    services.account_create(by=org.rep_a, name="Beta", email="other@qq.com")


def test_duplicates_only_among_visible_accounts(org):
    AccountFactory(owner=org.rep_b, name="Sibling Corp")
    assert not selectors.duplicates_for(viewer=org.rep_a, name="Sibling Corp").exists()
    assert selectors.duplicates_for(viewer=org.east_mgr, name="Sibling Corp Ltd.").exists()


def test_owner_outside_visible_set_is_refused(org):
    with pytest.raises(ValidationError) as caught:
        services.account_create(by=org.sup_a, name="X", owner=org.rep_b)
    assert "owner" in caught.value.message_dict
    assert services.account_create(by=org.sup_a, name="Y", owner=org.rep_a1).owner == org.rep_a1


def test_bad_input_writes_nothing(org):
    with pytest.raises(ValidationError) as caught:
        services.account_create(by=org.rep_a, name="", email="not-an-email", phone="abc")
    assert {"name", "email", "phone"} <= set(caught.value.message_dict)
    assert not Account.all_objects.exists()


def test_inactive_industry_is_refused_on_create(org):
    industry = IndustryFactory(active=False)
    with pytest.raises(ValidationError):
        services.account_create(by=org.rep_a, name="X", industry=industry)


def test_duplicate_external_id_is_a_field_error(org):
    services.account_create(by=org.rep_a, name="One", external_id="ERP-1")
    with pytest.raises(ValidationError) as caught:
        services.account_create(by=org.rep_a, name="Two", external_id="ERP-1")
    assert "external_id" in caught.value.message_dict


# Writers


def test_rep_edits_own_account_only_and_manager_edits_what_they_see(org):
    own = AccountFactory(owner=org.rep_a)
    sibling = AccountFactory(owner=org.rep_b)
    services.account_update(by=org.rep_a, account=own, notes="mine")
    with pytest.raises(PermissionDenied):
        services.account_update(by=org.rep_a, account=sibling, notes="not mine")
    services.account_update(by=org.east_mgr, account=sibling, notes="managed")
    sibling.refresh_from_db()
    assert sibling.notes == "managed"
    with pytest.raises(PermissionDenied):
        services.account_update(by=org.sup_a, account=sibling, notes="other subtree")


def test_soft_delete_hides_account_and_its_children_and_leaves_tombstones(org):
    account = AccountFactory(owner=org.rep_a)
    contact = ContactFactory(account=account)
    FollowUpFactory(account=account)
    before = timezone.now()
    services.account_delete(by=org.rep_a, account=account)
    assert not Account.objects.filter(pk=account.pk).exists()
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert not FollowUp.objects.visible_to(org.rep_a).exists()
    tombstones = selectors.account_tombstones(viewer=org.rep_a, updated_after=before)
    assert [row.pk for row in tombstones] == [account.pk]
    assert list(selectors.contact_tombstones(viewer=org.rep_a)) == [contact]
    assert selectors.account_tombstones(viewer=org.rep_b).count() == 0


def test_tags_single_and_bulk(org):
    vip, hot = TagFactory(name="VIP"), TagFactory(name="hot")
    mine = [AccountFactory(owner=org.rep_a) for _ in range(3)]
    services.account_set_tags(by=org.rep_a, account=mine[0], tags=[vip])
    assert (
        services.accounts_bulk_tag(by=org.rep_a, account_ids=[a.pk for a in mine], tags=[vip, hot])
        == 3
    )
    assert Account.tags.through.objects.count() == 6
    services.accounts_bulk_tag(by=org.rep_a, account_ids=[mine[0].pk], tags=[hot], remove=True)
    assert set(mine[0].tags.values_list("name", flat=True)) == {"VIP"}
    with pytest.raises(PermissionDenied):
        services.accounts_bulk_tag(
            by=org.rep_a, account_ids=[AccountFactory(owner=org.rep_b).pk], tags=[vip]
        )


# Interactions and follow-ups


def test_interaction_log_touches_account_and_creates_followup_for_logger(org):
    account = AccountFactory(owner=org.rep_a)
    due = timezone.now() + timedelta(days=2)
    when = timezone.now() - timedelta(hours=1)
    interaction = services.interaction_log(
        by=org.rep_a,
        account=account,
        subject="Intro call",
        occurred_at=when,
        outcome=Interaction.Outcome.POSITIVE,
        next_step="Send quote",
        next_step_due=due,
    )
    account.refresh_from_db()
    assert account.last_contacted_at == when
    followup = FollowUp.objects.get(interaction=interaction)
    assert (followup.assignee, followup.title, followup.due_at) == (org.rep_a, "Send quote", due)


def test_interaction_log_contact_must_belong_to_the_account(org):
    account = AccountFactory(owner=org.rep_a)
    stranger = ContactFactory(account=AccountFactory(owner=org.rep_a))
    with pytest.raises(ValidationError):
        services.interaction_log(by=org.rep_a, account=account, subject="x", contact=stranger)
    assert not Interaction.objects.exists()


def test_rep_cannot_log_on_a_sibling_account(org):
    with pytest.raises(PermissionDenied):
        services.interaction_log(by=org.rep_a, account=AccountFactory(owner=org.rep_b), subject="x")


def test_followup_complete_snooze_cancel(org):
    followup = FollowUpFactory(account=AccountFactory(owner=org.rep_a))
    snoozed = services.followup_snooze(by=org.rep_a, followup=followup, days=2)
    assert snoozed.due_at > timezone.now() + timedelta(days=1)
    done = services.followup_complete(by=org.rep_a, followup=followup)
    assert done.status == FollowUp.Status.DONE and done.done_at
    with pytest.raises(ValidationError):
        services.followup_cancel(by=org.rep_a, followup=done)
    other = FollowUpFactory(account=AccountFactory(owner=org.rep_b))
    with pytest.raises(PermissionDenied):
        services.followup_complete(by=org.rep_a, followup=other)
    services.followup_cancel(by=org.east_mgr, followup=other)


def test_followup_buckets_use_installation_day(org, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    account = AccountFactory(owner=org.rep_a)
    # 02:00 UTC is 10:00 in Shanghai.
    now = timezone.now().replace(hour=2, minute=0, second=0, microsecond=0)
    overdue = FollowUpFactory(account=account, due_at=now - timedelta(days=1))
    today = FollowUpFactory(account=account, due_at=now + timedelta(hours=8))
    upcoming = FollowUpFactory(account=account, due_at=now + timedelta(hours=15))
    FollowUpFactory(account=account, due_at=now, status=FollowUp.Status.DONE)
    buckets = selectors.my_followups(user=org.rep_a, now=now)
    assert buckets.overdue == [overdue]
    assert buckets.today == [today]
    assert buckets.upcoming == [upcoming]


def test_reminders_are_sent_once_even_when_run_twice(org):
    account = AccountFactory(owner=org.rep_a)
    due = FollowUpFactory(account=account, due_at=timezone.now() - timedelta(minutes=1))
    FollowUpFactory(account=account, due_at=timezone.now() + timedelta(hours=1))
    FollowUpFactory(
        account=account, due_at=timezone.now() - timedelta(hours=1), status=FollowUp.Status.DONE
    )
    assert services.send_due_followup_reminders() == 1
    assert services.send_due_followup_reminders() == 0
    notes = Notification.objects.filter(recipient=org.rep_a, kind="follow_up_due")
    assert notes.count() == 1
    due.refresh_from_db()
    assert due.reminded_at is not None
    # Snoozing re-arms the reminder for the new time.
    services.followup_snooze(by=org.rep_a, followup=due, until=timezone.now() + timedelta(hours=1))
    later = timezone.now() + timedelta(hours=2)
    assert services.send_due_followup_reminders(now=later) == 2
    assert services.send_due_followup_reminders(now=later) == 0


# Reassigning and merging


def test_manager_reassigns_with_open_followups_and_timeline(org):
    account = AccountFactory(owner=org.rep_a)
    open_fu = FollowUpFactory(account=account)
    done_fu = FollowUpFactory(account=account, status=FollowUp.Status.DONE)
    services.account_reassign(by=org.east_mgr, account=account, to_user=org.rep_b)
    account.refresh_from_db()
    open_fu.refresh_from_db()
    done_fu.refresh_from_db()
    assert account.owner == org.rep_b and account.pool_team == org.east_b
    assert open_fu.assignee == org.rep_b and done_fu.assignee == org.rep_a
    event = account.events.get(kind=AccountEvent.Kind.REASSIGNED)
    assert event.actor == org.east_mgr
    assert event.detail == {"from": org.rep_a.pk, "to": org.rep_b.pk}


def test_reassign_rules(org):
    accounts = [AccountFactory(owner=org.rep_a) for _ in range(3)]
    with pytest.raises(PermissionDenied):
        services.accounts_reassign(by=org.rep_a, account_ids=[accounts[0].pk], to_user=org.rep_a)
    with pytest.raises(ValidationError):
        services.accounts_reassign(by=org.sup_a, account_ids=[accounts[0].pk], to_user=org.rep_b)
    assert (
        services.accounts_reassign(
            by=org.sup_a, account_ids=[a.pk for a in accounts], to_user=org.rep_a1
        )
        == 3
    )
    assert Account.objects.filter(owner=org.rep_a1).count() == 3


def test_leaver_reassignment_moves_accounts_and_followups(org):
    account = AccountFactory(owner=org.rep_a)
    FollowUpFactory(account=account)
    transfer = team_services.user_reassign_ownership(
        by=org.east_mgr, from_user=org.rep_a, to_user=org.rep_b
    )
    assert transfer.counts == {"accounts": 1, "follow_ups": 1}
    assert OwnershipTransfer.objects.count() == 1
    assert Account.objects.get(pk=account.pk).owner == org.rep_b


def test_merge_moves_children_fills_blanks_and_is_recorded(org):
    survivor = AccountFactory(owner=org.rep_a, name="Acme", phone="")
    merged = AccountFactory(owner=org.rep_a1, name="ACME Ltd", phone="021-5555-0000")
    ContactFactory(account=survivor, is_primary=True)
    ContactFactory(account=merged, is_primary=True)
    InteractionFactory(account=merged)
    FollowUpFactory(account=merged)
    calls = []
    services.register_account_merger(lambda s, m, by: calls.append((s.pk, m.pk)) or {"deals": 0})
    try:
        record = services.accounts_merge(by=org.sup_a, survivor=survivor, merged=merged)
    finally:
        services._account_mergers.pop()
    assert calls == [(survivor.pk, merged.pk)]
    assert record.counts == {
        "contacts": 1,
        "interactions": 1,
        "follow_ups": 1,
        "events": 0,
        "deals": 0,
    }
    survivor.refresh_from_db()
    assert survivor.phone == "021-5555-0000"
    assert survivor.contacts.count() == 2
    assert survivor.contacts.filter(is_primary=True).count() == 1
    assert not Account.objects.filter(pk=merged.pk).exists()
    assert AccountMerge.objects.get().snapshot["name"] == "ACME Ltd"
    assert survivor.events.filter(kind=AccountEvent.Kind.MERGED).exists()


def test_only_managers_merge_and_only_what_they_see(org):
    a, b = AccountFactory(owner=org.rep_a), AccountFactory(owner=org.rep_a)
    with pytest.raises(PermissionDenied):
        services.accounts_merge(by=org.rep_a, survivor=a, merged=b)
    with pytest.raises(PermissionDenied):
        services.accounts_merge(by=org.sup_b, survivor=a, merged=b)
    with pytest.raises(ValidationError):
        services.accounts_merge(by=org.sup_a, survivor=a, merged=a)


# Lead scoring


@pytest.fixture
def scoring_rules():
    it = IndustryFactory(code="it-software")
    LeadScoringRuleFactory(
        name="Target industry",
        field=LeadScoringRule.Field.INDUSTRY,
        operator=LeadScoringRule.Operator.IN,
        value="it-software, finance",
        points=20,
        order=1,
    )
    LeadScoringRuleFactory(name="Large company", value="200", points=15, order=2)
    LeadScoringRuleFactory(
        name="Engaged",
        field=LeadScoringRule.Field.RECENT_INTERACTIONS,
        operator=LeadScoringRule.Operator.EACH,
        window_days=30,
        points=5,
        order=3,
    )
    LeadScoringRuleFactory(
        name="Gone quiet",
        field=LeadScoringRule.Field.DAYS_SINCE_CONTACT,
        operator=LeadScoringRule.Operator.GTE,
        value="60",
        points=-10,
        order=4,
    )
    return it


def test_score_tier_and_explanation(org, scoring_rules):
    account = AccountFactory(owner=org.rep_a, industry=scoring_rules, size_band=500)
    for days in (1, 5, 40):
        services.interaction_log(
            by=org.rep_a,
            account=account,
            subject="touch",
            occurred_at=timezone.now() - timedelta(days=days),
        )
    account.refresh_from_db()
    # 20 (industry) + 15 (size) + 2 x 5 (interactions in 30 days) = 45
    assert (account.lead_score, account.tier) == (45, "B")
    explained = selectors.score_explain(account=account)
    assert explained.score == 45
    assert [(r.rule.name, r.matched, r.points) for r in explained.results] == [
        ("Target industry", True, 20),
        ("Large company", True, 15),
        ("Engaged", True, 10),
        ("Gone quiet", False, 0),
    ]


def test_score_is_clamped_and_thresholds_are_the_admins(org, scoring_rules):
    LeadScoringRuleFactory(name="Huge", value="1", points=100)
    account = AccountFactory(owner=org.rep_a, industry=scoring_rules, size_band=500)
    services.account_recompute_score(account=account)
    assert (account.lead_score, account.tier) == (100, "A")
    quiet = AccountFactory(owner=org.rep_a, size_band=None)
    Account.objects.filter(pk=quiet.pk).update(created_at=timezone.now() - timedelta(days=90))
    services.account_recompute_score(account=quiet)
    assert (quiet.lead_score, quiet.tier) == (0, "C")
    settings_row = CustomerSettings.load()
    settings_row.tier_a_min_score = 100
    settings_row.save()
    assert services.accounts_recompute_scores() == 0
    LeadScoringRule.objects.filter(name="Huge").update(points=30)
    assert services.accounts_recompute_scores() == 1
    account.refresh_from_db()
    assert (account.lead_score, account.tier) == (65, "B")


def test_rule_validation():
    rule = LeadScoringRule(name="x", field="industry", operator="gte", value="3", points=1)
    with pytest.raises(ValidationError):
        rule.full_clean()
    rule = LeadScoringRule(name="x", field="size_band", operator="gte", value="abc", points=1)
    with pytest.raises(ValidationError):
        rule.full_clean()


# Lead capture


def test_lead_capture_round_robin_is_fair_and_notifies(org):
    team = TeamFactory(name="Inbound", parent=org.head_office)
    reps = [RepFactory(team=team) for _ in range(3)]
    User.objects.filter(pk=RepFactory(team=team).pk).update(is_active=False)
    settings_row = CustomerSettings.load()
    settings_row.lead_capture_team = team
    settings_row.save()
    owners = [
        services.lead_capture(
            company=f"Prospect {n}", name="王先生", phone="13800000000", message="Call me"
        ).owner
        for n in range(7)
    ]
    assert owners == [*reps, *reps, reps[0]]
    account = Account.objects.get(name="Prospect 0")
    assert account.source == Account.Source.WEB_FORM
    assert account.status == Account.Status.LEAD
    assert account.contacts.get().is_primary
    assert Notification.objects.filter(recipient=reps[0], kind="lead_captured").count() == 3


def test_lead_capture_without_reps_goes_to_the_team_pool(org):
    settings_row = CustomerSettings.load()
    settings_row.lead_capture_team = org.north
    settings_row.save()
    team_services.user_deactivate(by=org.admin, user=org.rep_north)
    account = services.lead_capture(company="Lonely", name="Li", email="li@lonely.cn")
    assert account.owner is None and account.pool_team == org.north
    assert Notification.objects.filter(recipient=org.north_mgr, kind="lead_captured").exists()


def test_lead_capture_needs_a_way_to_reply(org):
    with pytest.raises(ValidationError):
        services.lead_capture(company="X", name="Y")
    with pytest.raises(ValidationError):
        services.lead_capture(company="X", name="Y", email="bad")
    assert not Account.all_objects.exists()


def test_lead_capture_rate_limit():
    assert not any(
        services.lead_capture_rate_limited(address="10.0.0.1", limit=3) for _ in range(3)
    )
    assert services.lead_capture_rate_limited(address="10.0.0.1", limit=3)
    assert not services.lead_capture_rate_limited(address="10.0.0.2", limit=3)


# Public pool


def test_pool_visibility_release_and_claim(org):
    account = AccountFactory(owner=org.rep_a1)
    services.account_release(by=org.rep_a1, account=account)
    account.refresh_from_db()
    assert account.owner is None and account.pool_team == org.east_a1
    assert account.released_by == org.rep_a1
    visible_to = {
        user.username
        for user in (
            org.rep_a1,
            org.lead_a1,
            org.sup_a,
            org.east_mgr,
            org.head,
            org.admin,
            org.rep_a,
            org.rep_a1x,
            org.rep_b,
            org.lead_a1x,
            org.north_mgr,
        )
        if selectors.pool_list(viewer=user).filter(pk=account.pk).exists()
    }
    assert visible_to == {"rep_a1", "lead_a1", "sup_a", "east_mgr", "head", "admin"}
    with pytest.raises(ValidationError):
        services.account_claim(by=org.rep_b, account=account)
    claimed = services.account_claim(by=org.lead_a1, account=account)
    assert claimed.owner == org.lead_a1
    kinds = list(claimed.events.values_list("kind", flat=True))
    assert AccountEvent.Kind.RELEASED in kinds and AccountEvent.Kind.CLAIMED in kinds


def test_release_cancels_the_previous_owners_open_followups(org):
    account = AccountFactory(owner=org.rep_a)
    followup = FollowUpFactory(account=account)
    services.account_release(by=org.rep_a, account=account)
    followup.refresh_from_db()
    assert followup.status == FollowUp.Status.CANCELLED


def test_claim_cap(org):
    settings_row = CustomerSettings.load()
    settings_row.pool_claim_cap = 2
    settings_row.save()
    AccountFactory(owner=org.rep_a)
    first, second = (
        AccountFactory(owner=None, pool_team=org.east_a),
        AccountFactory(owner=None, pool_team=org.east_a),
    )
    services.account_claim(by=org.rep_a, account=first)
    with pytest.raises(ValidationError) as caught:
        services.account_claim(by=org.rep_a, account=second)
    assert "2" in str(caught.value)
    assert Account.objects.get(pk=second.pk).owner is None


def test_cooling_off_applies_to_the_releasing_rep_only(org):
    account = AccountFactory(owner=org.rep_a)
    services.account_release(by=org.rep_a, account=account)
    with pytest.raises(ValidationError):
        services.account_claim(by=org.rep_a, account=account)
    later = timezone.now() + timedelta(days=8)
    assert services.account_claim(by=org.rep_a, account=account, now=later).owner == org.rep_a


def test_claim_race_sequentially_only_the_first_wins(org):
    account = AccountFactory(owner=None, pool_team=org.east)
    services.account_claim(by=org.rep_east, account=account)
    with pytest.raises(ValidationError):
        services.account_claim(by=org.east_mgr, account=account)
    assert Account.objects.get(pk=account.pk).owner == org.rep_east
    assert AccountEvent.objects.filter(kind=AccountEvent.Kind.CLAIMED).count() == 1


def test_recycle_warns_then_recycles_once(org):
    settings_row = CustomerSettings.load()
    settings_row.pool_recycle_days, settings_row.pool_warning_days = 30, 3
    settings_row.save()
    now = timezone.now()
    stale = AccountFactory(owner=org.rep_a)
    soon = AccountFactory(owner=org.rep_a)
    fresh = AccountFactory(owner=org.rep_a)
    Account.objects.filter(pk=stale.pk).update(
        owner_since=now - timedelta(days=60), last_contacted_at=now - timedelta(days=31)
    )
    Account.objects.filter(pk=soon.pk).update(
        owner_since=now - timedelta(days=60), last_contacted_at=now - timedelta(days=28)
    )
    Account.objects.filter(pk=fresh.pk).update(
        owner_since=now - timedelta(days=60), last_contacted_at=now - timedelta(days=2)
    )
    assert services.recycle_stale_accounts(now=now) == {"recycled": 1, "warned": 1}
    assert services.recycle_stale_accounts(now=now) == {"recycled": 0, "warned": 0}
    stale.refresh_from_db()
    assert stale.owner is None and stale.pool_team == org.east_a
    assert stale.events.filter(kind=AccountEvent.Kind.RECYCLED).exists()
    for recipient in (org.rep_a, org.sup_a):
        assert Notification.objects.filter(recipient=recipient, kind="pool_recycled").count() == 1
        assert Notification.objects.filter(recipient=recipient, kind="pool_warning").count() == 1
    # A contact after the warning keeps the account.
    services.interaction_log(by=org.rep_a, account=soon, subject="Checking in")
    assert services.recycle_stale_accounts(now=now + timedelta(days=5))["recycled"] == 0


def test_freshly_claimed_account_is_not_recycled(org):
    account = AccountFactory(owner=None, pool_team=org.east_a)
    Account.objects.filter(pk=account.pk).update(
        last_contacted_at=timezone.now() - timedelta(days=90)
    )
    services.account_claim(by=org.rep_a, account=account)
    assert services.recycle_stale_accounts()["recycled"] == 0


# Search and timeline


def test_search_by_chinese_pinyin_initials_english_phone_email_and_contact(org):
    huawei = AccountFactory(owner=org.rep_a, name="华为技术", phone="0755-28780808")
    acme = AccountFactory(owner=org.rep_a, name="Acme Robotics", email="hello@acme.io")
    ContactFactory(account=acme, name="张伟", mobile="13512345678", email="zw@acme.io")
    AccountFactory(owner=org.rep_b, name="华为终端")

    def found(query):
        return {a.name for a in selectors.account_search(viewer=org.rep_a, query=query)}

    assert found("华为") == {"华为技术"}
    assert found("hwjs") == {"华为技术"}
    assert found("huawei") == {"华为技术"}
    assert found("Hua Wei") == {"华为技术"}
    assert found("robotics") == {"Acme Robotics"}
    assert found("28780808") == {"华为技术"}
    assert found("hello@acme") == {"Acme Robotics"}
    assert found("zhangwei") == {"Acme Robotics"}
    assert found("1351234") == {"Acme Robotics"}
    assert {c.name for c in selectors.contact_search(viewer=org.rep_a, query="zw")} == {"张伟"}
    assert not selectors.contact_search(viewer=org.rep_b, query="zw")
    assert huawei.pk not in {a.pk for a in selectors.account_search(viewer=org.rep_b, query="hw")}


def test_timeline_merges_interactions_followups_and_events(org):
    account = services.account_create(by=org.rep_a, name="Timeline Co")
    services.interaction_log(
        by=org.rep_a,
        account=account,
        subject="Call",
        occurred_at=timezone.now() - timedelta(days=1),
        next_step="Visit",
        next_step_due=timezone.now() + timedelta(days=3),
    )
    entries = selectors.account_timeline(viewer=org.rep_a, account_id=account.pk)
    assert [entry.kind for entry in entries] == ["follow_up", "event", "interaction"]
    from django.http import Http404

    with pytest.raises(Http404):
        selectors.account_timeline(viewer=org.rep_b, account_id=account.pk)


def test_update_keeps_a_lookup_that_was_switched_off_later(org):
    industry = IndustryFactory()
    account = AccountFactory(owner=org.rep_a, industry=industry)
    industry.active = False
    industry.save()
    services.account_update(by=org.rep_a, account=account, notes="still fine")
    with pytest.raises(ValidationError):
        services.account_update(
            by=org.rep_a, account=account, industry=IndustryFactory(active=False)
        )


def test_lookup_used_only_by_a_deleted_account_is_switched_off(org):
    industry = IndustryFactory()
    account = AccountFactory(owner=org.rep_a, industry=industry)
    services.account_delete(by=org.rep_a, account=account)
    services.lookup_delete(by=org.admin, instance=industry)
    industry.refresh_from_db()
    assert not industry.active
    with pytest.raises(PermissionDenied):
        services.lookup_delete(by=org.rep_a, instance=industry)


def test_recycling_skips_accounts_without_a_team_pool(org):
    loner = RepFactory(team=None)
    account = AccountFactory(owner=loner)
    Account.objects.filter(pk=account.pk).update(
        pool_team=None, owner_since=timezone.now() - timedelta(days=90)
    )
    assert services.recycle_stale_accounts()["recycled"] == 0
    assert Account.objects.get(pk=account.pk).owner == loner
