"""The pipeline browser pages for each role: the deal list, the deal page, create and edit
forms, moves from the board and the deal page with their missing-criteria form, won and
lost, reopen and delete; visibility (404 for a deal out of sight), stale versions, bad input
that changes nothing, escaped user text and constant query counts."""

import re
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Interaction
from pipeline import services
from pipeline.models import AssignmentRule, Deal, Pipeline, Stage, StageChange
from teams.models import User
from tests.customers.factories import (
    AccountFactory,
    ContactFactory,
    FollowUpFactory,
    InteractionFactory,
)
from tests.pipeline.factories import (
    AssignmentRuleFactory,
    CompetitorFactory,
    DealFactory,
    ProductCategoryFactory,
    default_stages,
)
from tests.utils import assert_constant_queries

pytestmark = pytest.mark.django_db

ROLES = ["rep_a", "sup_a", "east_mgr", "admin"]
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def english(db, settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def data(org):
    User.objects.update(preferred_language="en")
    d = SimpleNamespace(org=org, stages=default_stages())
    d.account = AccountFactory(owner=org.rep_a, name="Evergreen Logistics")
    d.contact = ContactFactory(account=d.account, name="Grace Wong", is_primary=True)
    d.mine = DealFactory(account=d.account, name="Evergreen renewal")
    d.below = DealFactory(account=AccountFactory(owner=org.rep_a1), name="Below deal")
    d.sibling = DealFactory(account=AccountFactory(owner=org.rep_b), name="Sibling secret deal")
    d.north = DealFactory(account=AccountFactory(owner=org.rep_north), name="Northern deal")
    return d


def deal_names(content: str) -> set[str]:
    return set(re.findall(r'<a (?:class="deal-name" )?href="/deals/\d+/">([^<]+)</a>', content))


VISIBLE = {
    "rep_a": {"Evergreen renewal"},
    "sup_a": {"Evergreen renewal", "Below deal"},
    "east_mgr": {"Evergreen renewal", "Below deal", "Sibling secret deal"},
    "admin": {"Evergreen renewal", "Below deal", "Sibling secret deal", "Northern deal"},
}


@pytest.mark.parametrize("role", ROLES)
def test_list_and_board_show_the_visible_deals_only(client_for, data, role):
    client = client_for(getattr(data.org, role))
    deal_list = client.get(reverse("pipeline:deal_list"))
    assert deal_list.status_code == 200
    assert deal_names(deal_list.content.decode()) == VISIBLE[role]
    board = client.get(reverse("pipeline:board"))
    assert board.status_code == 200
    assert deal_names(board.content.decode()) == VISIBLE[role]


@pytest.mark.parametrize("role", ROLES)
def test_pages_open_for_each_role_on_a_deal_they_see(client_for, data, role):
    client = client_for(getattr(data.org, role))
    pk = data.mine.pk
    for name in ("deal_detail", "deal_edit", "deal_delete"):
        assert client.get(reverse(f"pipeline:{name}", args=[pk])).status_code == 200, name
    assert client.get(reverse("pipeline:deal_create")).status_code == 200
    page = client.get(reverse("pipeline:deal_detail", args=[pk])).content.decode()
    assert "Evergreen Logistics" in page and "Lead discovery" in page


def test_a_deal_out_of_sight_is_not_found_everywhere(client_for, data):
    client = client_for(data.org.rep_a)
    pk = data.sibling.pk
    for name in ("deal_detail", "deal_edit", "deal_delete"):
        assert client.get(reverse(f"pipeline:{name}", args=[pk])).status_code == 404, name
    stage = data.stages["needs_analysis"]
    moved = client.post(reverse("pipeline:deal_move", args=[pk]), {"stage": stage.pk, "version": 1})
    assert moved.status_code == 404
    assert client.post(reverse("pipeline:deal_reopen", args=[pk])).status_code == 404
    assert client.post(reverse("pipeline:deal_delete", args=[pk])).status_code == 404
    assert client.post(reverse("pipeline:deal_edit", args=[pk]), {"name": "x"}).status_code == 404
    data.sibling.refresh_from_db()
    assert (data.sibling.stage_id, data.sibling.name, data.sibling.deleted_at) == (
        data.stages["lead_discovery"].pk,
        "Sibling secret deal",
        None,
    )
    assert (
        client.get(
            reverse("pipeline:deal_create"), {"account": data.sibling.account_id}
        ).status_code
        == 404
    )


def test_a_manager_filters_the_list_and_a_rep_cannot_filter_by_a_sibling(client_for, data):
    manager = client_for(data.org.east_mgr)
    page = manager.get(reverse("pipeline:deal_list"), {"owner": data.org.rep_b.pk})
    assert deal_names(page.content.decode()) == {"Sibling secret deal"}
    rep = client_for(data.org.rep_a)
    page = rep.get(reverse("pipeline:deal_list"), {"owner": data.org.rep_b.pk})
    assert "Sibling secret deal" not in page.content.decode()


def test_the_list_swaps_only_its_table_with_htmx_and_sorts(client_for, data):
    DealFactory(account=data.account, name="Small one", amount=Decimal("10"))
    client = client_for(data.org.rep_a)
    response = client.get(reverse("pipeline:deal_list"), {"sort": "amount"}, **HTMX)
    content = response.content.decode()
    assert "<html" not in content and 'id="sort-input"' in content
    assert content.index("Small one") < content.index("Evergreen renewal")
    assert "/deals/export.csv?sort=amount" in content


def test_deal_list_filters_by_stage_amount_and_over_sla(client_for, data):
    other = DealFactory(account=data.account, name="Big late one", amount=Decimal("900000"))
    Deal.objects.filter(pk=other.pk).update(stage_due_at=timezone.now() - timedelta(days=1))
    client = client_for(data.org.rep_a)
    url = reverse("pipeline:deal_list")
    assert deal_names(client.get(url, {"min_amount": "500000"}).content.decode()) == {
        "Big late one"
    }
    over = client.get(url, {"over_sla": "true"}).content.decode()
    assert deal_names(over) == {"Big late one"} and "Over SLA" in over
    stage = data.stages["lead_discovery"].pk
    assert deal_names(client.get(url, {"stage": stage}).content.decode()) == {
        "Evergreen renewal",
        "Big late one",
    }


def test_deal_list_queries_do_not_grow_with_rows(client_for, org):
    User.objects.update(preferred_language="en")
    client = client_for(org.sup_a)
    competitor = CompetitorFactory()

    def add(count):
        for _ in range(count):
            deal = DealFactory(account=AccountFactory(owner=org.rep_a1))
            deal.competitors.add(competitor)

    assert_constant_queries(add, lambda: client.get(reverse("pipeline:deal_list")))


def test_deal_page_shows_history_days_and_account_activity(client_for, data):
    stages = data.stages
    now = timezone.now()
    deal = data.mine
    services.deal_move(
        by=None,
        deal=deal,
        stage=stages["needs_analysis"],
        values={"contact": data.contact},
        checklist=["Decision maker identified"],
        now=deal.stage_entered_at + timedelta(days=3, hours=12),
    )
    InteractionFactory(
        account=data.account, subject="Talked budget", occurred_at=now, kind=Interaction.Kind.CALL
    )
    FollowUpFactory(account=data.account, title="Send the proposal")
    page = client_for(data.org.rep_a).get(reverse("pipeline:deal_detail", args=[deal.pk]))
    content = page.content.decode()
    history = content[content.index("Stage history") :]
    assert "Lead discovery" in history and "Needs analysis" in history
    assert "3.5" in history
    assert "Talked budget" in content and "Send the proposal" in content
    assert "Grace Wong" in content
    assert f"<dd>{deal.version + 1}</dd>" in content


def test_rep_moves_from_the_deal_page_fills_the_missing_criteria_and_the_move_succeeds(
    client_for, data
):
    client = client_for(data.org.rep_a)
    deal = data.mine
    url = reverse("pipeline:deal_move", args=[deal.pk])
    target = data.stages["needs_analysis"]
    next_url = reverse("pipeline:deal_detail", args=[deal.pk])
    refused = client.post(url, {"stage": target.pk, "version": deal.version, "next": next_url})
    assert refused.status_code == 400
    content = refused.content.decode()
    assert 'name="contact"' in content and "Decision maker identified" in content
    assert 'name="amount"' not in content and 'name="closed_at"' not in content
    deal.refresh_from_db()
    assert deal.stage_id == data.stages["lead_discovery"].pk and deal.version == 1

    # Filled in without confirming the checklist: asked again, with the message.
    again = client.post(
        url,
        {
            "stage": target.pk,
            "version": deal.version,
            "next": next_url,
            "criteria": "1",
            "contact": data.contact.pk,
        },
    )
    assert again.status_code == 400
    assert "Confirm every item" in again.content.decode()

    done = client.post(
        url,
        {
            "stage": target.pk,
            "version": deal.version,
            "next": next_url,
            "criteria": "1",
            "contact": data.contact.pk,
            "checklist": "Decision maker identified",
        },
    )
    assert done.status_code == 302 and done["Location"] == next_url
    deal.refresh_from_db()
    assert (deal.stage_id, deal.contact_id) == (target.pk, data.contact.pk)
    assert deal.confirmed_checklist == ["Decision maker identified"]
    assert StageChange.objects.filter(deal=deal, to_stage=target).count() == 1


def test_htmx_move_asks_for_missing_fields_in_the_dialog_then_swaps_the_board(client_for, data):
    client = client_for(data.org.rep_a)
    deal = data.mine
    url = reverse("pipeline:deal_move", args=[deal.pk])
    target = data.stages["demo"]
    board_url = reverse("pipeline:board") + f"?owner={data.org.rep_a.pk}"
    asked = client.post(
        url, {"stage": target.pk, "version": deal.version, "next": board_url}, **HTMX
    )
    assert asked.status_code == 200
    assert asked["HX-Retarget"] == "#move-dialog"
    content = asked.content.decode()
    for field in ("contact", "product_category", "checklist"):
        assert f'name="{field}"' in content, field
    assert 'name="amount"' not in content  # the deal has an amount already
    assert f'hx-post="{url}"' in content

    category = ProductCategoryFactory()
    moved = client.post(
        url,
        {
            "stage": target.pk,
            "version": deal.version,
            "next": board_url,
            "criteria": "1",
            "contact": data.contact.pk,
            "product_category": category.pk,
            "checklist": ["Budget confirmed"],
        },
        **HTMX,
    )
    assert moved.status_code == 200 and "HX-Retarget" not in moved
    content = moved.content.decode()
    assert content.startswith('<div id="board"') and "moved to Demo" in content
    column = content[content.index(f'data-stage="{target.pk}"') :]
    assert "Evergreen renewal" in column.split("</section>")[0]
    # The fresh board keeps the filters the move was made with.
    assert f"?owner={data.org.rep_a.pk}" in content
    deal.refresh_from_db()
    assert deal.stage_id == target.pk and deal.product_category_id == category.pk


def test_winning_asks_the_close_date_and_losing_the_reason_and_competitors(client_for, data):
    client = client_for(data.org.rep_a)
    won, lost = data.mine, DealFactory(account=data.account, name="Second")
    won_stage, lost_stage = data.stages["contract_signed"], data.stages["lost"]
    url = reverse("pipeline:deal_move", args=[won.pk])
    asked = client.post(url, {"stage": won_stage.pk, "version": won.version})
    assert asked.status_code == 400 and 'name="closed_at"' in asked.content.decode()
    closed_on = timezone.localdate() - timedelta(days=1)
    done = client.post(
        url,
        {"stage": won_stage.pk, "version": won.version, "criteria": "1", "closed_at": closed_on},
    )
    assert done.status_code == 302
    won.refresh_from_db()
    assert (won.status, won.closed_at) == (Deal.Status.WON, closed_on)

    rival = CompetitorFactory(name="Rival Soft")
    url = reverse("pipeline:deal_move", args=[lost.pk])
    asked = client.post(url, {"stage": lost_stage.pk, "version": lost.version})
    content = asked.content.decode()
    assert 'name="lost_reason"' in content and "Rival Soft" in content
    done = client.post(
        url,
        {
            "stage": lost_stage.pk,
            "version": lost.version,
            "criteria": "1",
            "lost_reason": "competitor",
            "competitors": [rival.pk],
            "lost_note": "Cheaper offer",
        },
    )
    assert done.status_code == 302
    lost.refresh_from_db()
    assert (lost.status, lost.lost_reason, lost.lost_note) == (
        Deal.Status.LOST,
        "competitor",
        "Cheaper offer",
    )
    assert list(lost.competitors.all()) == [rival]

    # A closed deal is reopened, not moved; the page offers the reopen button.
    page = client.get(reverse("pipeline:deal_detail", args=[lost.pk])).content.decode()
    assert "Reopen" in page and 'class="move-to"' not in page
    reopened = client.post(
        reverse("pipeline:deal_reopen", args=[lost.pk]), {"version": lost.version}
    )
    assert reopened.status_code == 302
    lost.refresh_from_db()
    assert lost.status == Deal.Status.OPEN and lost.stage_id == data.stages["lead_discovery"].pk
    assert StageChange.objects.filter(deal=lost, kind=StageChange.Kind.REOPEN).count() == 1


def test_a_stale_version_says_so_and_shows_the_fresh_card(client_for, data):
    deal = data.mine
    services.deal_update(by=None, deal=deal, amount=Decimal("123456"))
    client = client_for(data.org.rep_a)
    target = data.stages["needs_analysis"]
    response = client.post(
        reverse("pipeline:deal_move", args=[deal.pk]),
        {"stage": target.pk, "version": 1, "next": reverse("pipeline:board")},
        **HTMX,
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "was changed by someone else" in content
    card = content[content.index(f'id="deal-card-{deal.pk}"') :].split("</li>")[0]
    assert "highlight" in content[content.index(f'id="deal-card-{deal.pk}"') - 80 :][:200]
    assert "123,456" in card and 'name="version" value="2"' in card
    deal.refresh_from_db()
    assert (deal.stage_id, deal.version) == (data.stages["lead_discovery"].pk, 2)

    plain = client.post(
        reverse("pipeline:deal_move", args=[deal.pk]),
        {"stage": target.pk, "version": 1, "next": reverse("pipeline:board")},
    )
    assert plain.status_code == 302 and plain["Location"] == reverse("pipeline:board")


def test_editing_with_a_stale_version_is_refused_and_changes_nothing(client_for, data):
    deal = data.mine
    client = client_for(data.org.rep_a)
    url = reverse("pipeline:deal_edit", args=[deal.pk])
    services.deal_update(by=None, deal=deal, name="Renamed elsewhere")
    response = client.post(
        url,
        {"name": "My rename", "version": 1, "source": "manual", "forecast_category": "pipeline"},
    )
    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    deal.refresh_from_db()
    assert deal.name == "Renamed elsewhere"

    saved = client.post(
        url,
        {
            "name": "My rename",
            "version": deal.version,
            "source": "manual",
            "forecast_category": "commit",
            "amount": "250000.50",
            "contact": data.contact.pk,
        },
    )
    assert saved.status_code == 302
    deal.refresh_from_db()
    assert (deal.name, deal.forecast_category, deal.amount, deal.contact_id) == (
        "My rename",
        "commit",
        Decimal("250000.50"),
        data.contact.pk,
    )


@pytest.mark.parametrize(
    "payload",
    [
        {"stage": "not-a-number", "version": 1},
        {"stage": "STAGE", "version": "x"},
        {"stage": "OTHER_PIPELINE", "version": 1},
        {"stage": "STAGE", "version": 1, "amount": "-5", "criteria": "1"},
        {"stage": "STAGE", "version": 1, "contact": "FOREIGN_CONTACT", "criteria": "1"},
        {"stage": "CURRENT", "version": 1},
    ],
)
def test_bad_move_input_changes_nothing(client_for, data, payload):
    other = Pipeline.objects.create(name="Renewals")
    other_stage = Stage.objects.create(pipeline=other, order=1, code="start", name="Start")
    foreign = ContactFactory(account=data.sibling.account)
    substitutes = {
        "STAGE": data.stages["demo"].pk,
        "OTHER_PIPELINE": other_stage.pk,
        "CURRENT": data.stages["lead_discovery"].pk,
        "FOREIGN_CONTACT": foreign.pk,
    }
    payload = {key: substitutes.get(value, value) for key, value in payload.items()}
    deal = data.mine
    response = client_for(data.org.rep_a).post(
        reverse("pipeline:deal_move", args=[deal.pk]), payload
    )
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode() or "errorlist" in response.content.decode()
    deal.refresh_from_db()
    assert (deal.stage_id, deal.version, deal.contact_id) == (
        data.stages["lead_discovery"].pk,
        1,
        None,
    )
    assert StageChange.objects.filter(deal=deal).count() == 1


def test_bad_edit_input_changes_nothing(client_for, data):
    deal = data.mine
    response = client_for(data.org.rep_a).post(
        reverse("pipeline:deal_edit", args=[deal.pk]),
        {"name": "", "version": 1, "amount": "-1", "source": "manual", "forecast_category": "x"},
    )
    assert response.status_code == 400
    deal.refresh_from_db()
    assert (deal.name, deal.amount, deal.version) == ("Evergreen renewal", Decimal("100000"), 1)


def test_create_prefills_the_account_and_limits_owners_to_the_visible_set(client_for, data):
    client = client_for(data.org.sup_a)
    url = reverse("pipeline:deal_create")
    page = client.get(url, {"account": data.account.pk}).content.decode()
    assert f'<option value="{data.account.pk}" selected>' in page
    assert "Grace Wong" in page
    owners = re.search(r'<select name="owner".*?</select>', page, re.S).group(0)
    assert f'value="{data.org.rep_a1.pk}"' in owners
    assert f'value="{data.org.rep_b.pk}"' not in owners

    refused = client.post(
        url,
        {
            "name": "Not yours",
            "account": data.account.pk,
            "owner": data.org.rep_b.pk,
            "source": "manual",
        },
    )
    assert refused.status_code == 400
    assert not Deal.objects.filter(name="Not yours").exists()

    created = client.post(
        url,
        {
            "name": "New opportunity",
            "account": data.account.pk,
            "contact": data.contact.pk,
            "owner": data.org.rep_a.pk,
            "amount": "50000",
            "source": "referral",
        },
    )
    deal = Deal.objects.get(name="New opportunity")
    assert created.status_code == 302 and created["Location"] == reverse(
        "pipeline:deal_detail", args=[deal.pk]
    )
    assert (deal.owner, deal.contact, deal.amount, deal.stage.code) == (
        data.org.rep_a,
        data.contact,
        Decimal("50000"),
        "lead_discovery",
    )


def test_create_without_owner_applies_the_assignment_rules(client_for, data):
    AssignmentRuleFactory(action=AssignmentRule.Action.USER, user=data.org.rep_a1)
    response = client_for(data.org.sup_a).post(
        reverse("pipeline:deal_create"),
        {"name": "Routed", "account": data.account.pk, "source": "manual"},
    )
    assert response.status_code == 302
    assert Deal.objects.get(name="Routed").owner == data.org.rep_a1


def test_create_in_a_later_stage_asks_for_its_criteria(client_for, data):
    response = client_for(data.org.rep_a).post(
        reverse("pipeline:deal_create"),
        {
            "name": "Late start",
            "account": data.account.pk,
            "stage": data.stages["needs_analysis"].pk,
            "source": "manual",
        },
    )
    assert response.status_code == 400
    assert not Deal.objects.filter(name="Late start").exists()
    assert "Required to enter the stage" in response.content.decode()


def test_delete_removes_the_deal_from_the_pages(client_for, data):
    client = client_for(data.org.rep_a)
    response = client.post(reverse("pipeline:deal_delete", args=[data.mine.pk]))
    assert response.status_code == 302
    assert Deal.all_objects.get(pk=data.mine.pk).deleted_at is not None
    assert client.get(reverse("pipeline:deal_detail", args=[data.mine.pk])).status_code == 404
    assert deal_names(client.get(reverse("pipeline:deal_list")).content.decode()) == set()


def test_user_text_is_escaped(client_for, data):
    evil = "<script>alert('x')</script>"
    deal = DealFactory(account=data.account, name=evil)
    client = client_for(data.org.rep_a)
    for url in (
        reverse("pipeline:board"),
        reverse("pipeline:deal_list"),
        reverse("pipeline:deal_detail", args=[deal.pk]),
        reverse("pipeline:deal_edit", args=[deal.pk]),
    ):
        content = client.get(url).content.decode()
        assert evil not in content, url
        assert "&lt;script&gt;" in content, url
    asked = client.post(
        reverse("pipeline:deal_move", args=[deal.pk]),
        {"stage": data.stages["needs_analysis"].pk, "version": deal.version},
    )
    assert evil not in asked.content.decode()


def test_navigation_and_account_page_link_to_the_deals(client_for, data):
    client = client_for(data.org.rep_a)
    home = client.get(reverse("pipeline:deal_list")).content.decode()
    assert f'href="{reverse("pipeline:board")}"' in home and "Deal board" in home
    account = client.get(reverse("customers:account_detail", args=[data.account.pk]))
    assert (
        f"{reverse('pipeline:deal_create')}?account={data.account.pk}" in account.content.decode()
    )


def test_pages_speak_chinese_to_a_chinese_user(client_for, data):
    User.objects.filter(pk=data.org.rep_a.pk).update(preferred_language="zh-hans")
    client = client_for(User.objects.get(pk=data.org.rep_a.pk))
    for url in (
        reverse("pipeline:board"),
        reverse("pipeline:deal_list"),
        reverse("pipeline:deal_detail", args=[data.mine.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "潜在客户挖掘" in response.content.decode(), url
