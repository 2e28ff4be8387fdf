"""Browser: a manager opens the planning grid of a quarterly team target, decomposes it to
the reps and months, sees every row and column add up to the target, changes one month and
sees the difference live before saving it."""

import datetime as dt
import importlib
import re
from decimal import Decimal

import pytest
from django.apps import apps

from performance.models import Target
from tests.factories import PASSWORD, ManagerFactory, RepFactory, TeamFactory
from tests.performance.factories import target

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

seed = importlib.import_module("pipeline.migrations.0002_default_pipeline_with_bilingual_stages")

Q2 = dt.date(2026, 4, 1)


def test_manager_decomposes_a_team_quarter_and_edits_a_month(live_server, page):
    # Earlier transactional tests flush the rows the data migration made.
    seed.create_default_pipeline(apps, None)
    team = TeamFactory(name="Shenzhen squad")
    manager = ManagerFactory(username="mgr", team=team, preferred_language="en")
    reps = [
        RepFactory(username=f"rep{n}", first_name=name, team=team, preferred_language="en")
        for n, name in enumerate(("Ann", "Bo", "Cai"), start=1)
    ]
    quarter = target(manager, team=team, period_type="quarter", start=Q2, value=Decimal("100000"))

    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", manager.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button.primary")
    page.wait_for_url(f"{live_server.url}/")
    page.click('nav.sidenav >> text="Targets"')
    page.click(f"a[href='/targets/{quarter.pk}/']")
    assert "decompose the target to fill the grid" in page.text_content("main")

    page.click("text=Decompose to people and periods")
    page.wait_for_url(re.compile(rf".*/targets/{quarter.pk}/$"))
    assert "Target decomposed." in page.text_content("ul.messages")
    grid = page.locator("table.plan-grid")
    rows = grid.locator("tbody tr")
    assert rows.count() == 3
    row_targets = [Decimal(rows.nth(i).locator("input.row-target").input_value()) for i in range(3)]
    # Split to the cent: the odd cent goes to one of them.
    assert sorted(row_targets) == [Decimal("33333.33"), Decimal("33333.33"), Decimal("33333.34")]
    cells = [
        [
            Decimal(value)
            for value in rows.nth(i)
            .locator("input.cell")
            .evaluate_all("nodes => nodes.map(n => n.value)")
        ]
        for i in range(3)
    ]
    assert {value for row in cells for value in row} <= {Decimal("11111.11"), Decimal("11111.12")}
    assert all(len(row) == 3 and sum(row) == t for row, t in zip(cells, row_targets, strict=True))
    column_sums = [sum(column) for column in zip(*cells, strict=True)]
    assert sum(column_sums) == sum(row_targets) == quarter.value
    for i in range(3):
        assert number(rows.nth(i).locator(".row-diff")) == 0
    shown = [number(grid.locator(f'tfoot .col-sum[data-col="{c}"]')) for c in range(3)]
    assert shown == column_sums
    assert number(grid.locator(".targets-sum")) == number(grid.locator(".cells-sum")) == 100000

    # Ann's May goes up by 500: her row and the May column are 500 over, before saving.
    may = rows.nth(0).locator('input.cell[data-col="1"]')
    may.fill(str(cells[0][1] + 500))
    assert rows.nth(0).locator(".row-diff").text_content() == "500.00"
    assert "off" in rows.nth(0).locator(".row-diff").get_attribute("class")
    assert number(grid.locator('tfoot .col-sum[data-col="1"]')) == column_sums[1] + 500
    assert grid.locator(".cells-sum").text_content() == "100500.00"
    assert rows.nth(1).locator(".row-diff").text_content() == "0.00"

    page.click("#target-grid button.primary")
    page.wait_for_url(re.compile(rf".*/targets/{quarter.pk}/$"))
    assert "1 targets changed." in page.text_content("ul.messages")
    ann = Target.objects.get(parent__user=reps[0], start=dt.date(2026, 5, 1))
    assert ann.value == cells[0][1] + 500 and ann.hand_edited
    assert number(page.locator("table.plan-grid tbody tr").nth(0).locator(".row-diff")) == 500


def number(locator) -> Decimal:
    return Decimal(locator.text_content().strip().replace(",", ""))
