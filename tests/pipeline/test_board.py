"""The kanban board: columns by open stage with exact totals, a bounded number of cards per
column with "N more" leading to the filtered deal list, other pipelines, filters, the
drop targets for won and lost, and query counts that do not grow with the deals."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from pipeline import selectors, services, views
from pipeline.models import Deal, Pipeline, Stage
from teams.models import User
from tests.customers.factories import AccountFactory
from tests.pipeline.factories import DealFactory, ProductCategoryFactory, default_stages
from tests.utils import assert_constant_queries, count_queries

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(db, settings):
    settings.LANGUAGE_CODE = "en"
    User.objects.update(preferred_language="en")


def _deals(owner, count, **kwargs):
    account = AccountFactory(owner=owner)
    return [DealFactory(account=account, **kwargs) for _ in range(count)]


def test_columns_cap_the_cards_but_keep_exact_totals(org):
    pipeline = Pipeline.objects.get(is_default=True)
    deals = _deals(org.rep_a, 5, amount=Decimal("1000.50"))
    # The oldest in the stage come first, so stalled deals stay in view.
    base = timezone.now() - timedelta(days=30)
    for index, deal in enumerate(reversed(deals)):
        Deal.objects.filter(pk=deal.pk).update(stage_entered_at=base + timedelta(days=index))
    with count_queries() as ctx:
        columns = selectors.board(viewer=org.rep_a, pipeline=pipeline, cards_per_column=3)
    assert len(ctx) == 4  # the teams the viewer manages, stages, totals, cards
    first = columns[0]
    assert (first["count"], first["amount"], first["more"]) == (5, Decimal("5002.50"), 2)
    assert [deal.pk for deal in first["deals"]] == [deal.pk for deal in reversed(deals)][:3]
    assert all(column["more"] == 0 for column in columns[1:])


def test_board_page_shows_totals_cards_and_drop_targets(client_for, org):
    _deals(org.rep_a, 4, amount=Decimal("250000"))
    sibling = _deals(org.rep_b, 1, name="Sibling secret")[0]
    response = client_for(org.rep_a).get(reverse("pipeline:board"))
    content = response.content.decode()
    assert response.status_code == 200
    stages = default_stages()
    first = content[content.index(f'data-stage="{stages["lead_discovery"].pk}"') :]
    first = first.split("</section>")[0]
    assert '<span class="column-count" title="Deals">4</span>' in first
    assert "1,000,000" in first
    assert first.count('class="deal-card') == 4
    assert sibling.name not in content
    # Won and lost are drop targets at the end.
    assert f'data-stage="{stages["contract_signed"].pk}"' in content
    assert f'data-stage="{stages["lost"].pk}"' in content
    assert "/static/js/board.js" in content


def test_more_link_leads_to_the_deal_list_of_that_stage_with_the_filters(
    client_for, org, monkeypatch
):
    _deals(org.rep_a, 3)
    monkeypatch.setattr(views, "BOARD_CARDS", 1)
    client = client_for(org.rep_a)
    content = client.get(reverse("pipeline:board"), {"owner": org.rep_a.pk}).content.decode()
    assert content.count('class="deal-card') == 1
    link = re.search(r'<a class="column-more" href="([^"]+)">2 more</a>', content)
    assert link is not None
    href = link.group(1).replace("&amp;", "&")
    stage = default_stages()["lead_discovery"].pk
    assert f"stage={stage}" in href and "status=open" in href and f"owner={org.rep_a.pk}" in href
    listed = client.get(href).content.decode()
    assert "3 deals" in listed


def test_board_filters_by_product_category_and_other_pipelines(client_for, org):
    category = ProductCategoryFactory(name="Cloud")
    _deals(org.rep_a, 1, name="Cloud deal", product_category=category)
    _deals(org.rep_a, 1, name="Plain deal")
    client = client_for(org.rep_a)
    content = client.get(
        reverse("pipeline:board"), {"product_category": category.pk}
    ).content.decode()
    assert "Cloud deal" in content and "Plain deal" not in content

    other = Pipeline.objects.create(name="Renewals", order=1)
    start = Stage.objects.create(pipeline=other, order=1, code="start", name="Renewal due")
    Stage.objects.create(pipeline=other, order=2, code="won", name="Renewed", is_won=True)
    renewal = services.deal_create(
        by=None, name="Renewal deal", account=AccountFactory(owner=org.rep_a), stage=start
    )
    for response in (
        client.get(reverse("pipeline:pipeline_board", args=[other.pk])),
        client.get(reverse("pipeline:board"), {"pipeline": other.pk}),
    ):
        content = response.content.decode()
        assert "Renewal due" in content and renewal.name in content
        assert "Cloud deal" not in content
    assert client.get(reverse("pipeline:pipeline_board", args=[9999])).status_code == 404
    assert client.get(reverse("pipeline:board"), {"pipeline": "x"}).status_code == 404


def test_board_with_htmx_swaps_only_the_board(client_for, org):
    _deals(org.rep_a, 1, name="Only deal")
    response = client_for(org.rep_a).get(reverse("pipeline:board"), HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert content.startswith('<div id="board"') and "<html" not in content
    assert "Only deal" in content


def test_over_sla_cards_are_marked(client_for, org):
    late = _deals(org.rep_a, 1, name="Late deal")[0]
    Deal.objects.filter(pk=late.pk).update(
        stage_due_at=timezone.now() - timedelta(days=1),
        stage_entered_at=timezone.now() - timedelta(days=20),
    )
    content = client_for(org.rep_a).get(reverse("pipeline:board")).content.decode()
    card = content[content.index(f'id="deal-card-{late.pk}"') - 60 :].split("</li>")[0]
    assert "over-sla" in card and "Over SLA" in card and "20 days in stage" in card


@pytest.mark.parametrize("role", ["rep_a", "sup_a", "admin"])
def test_board_queries_do_not_grow_with_deals(client_for, org, role):
    client = client_for(getattr(org, role))
    stages = default_stages()

    def add(count):
        account = AccountFactory(owner=org.rep_a)
        for index in range(count):
            deal = DealFactory(account=account)
            if index % 2:
                Deal.objects.filter(pk=deal.pk).update(stage=stages["demo"])

    assert_constant_queries(add, lambda: client.get(reverse("pipeline:board")))


def test_the_board_stays_bounded_for_many_deals(client_for, org):
    pipeline = Pipeline.objects.get(is_default=True)
    _deals(org.rep_a, 7)
    columns = selectors.board(viewer=org.head, pipeline=pipeline, cards_per_column=5)
    assert (columns[0]["count"], len(columns[0]["deals"]), columns[0]["more"]) == (7, 5, 2)
