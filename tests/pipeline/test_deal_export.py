"""Export of the deal list: the visible, filtered, sorted deals as CSV and XLSX, with
formula-like text neutralised and a constant number of queries."""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from teams.models import User
from tests.customers.factories import AccountFactory
from tests.pipeline.factories import CompetitorFactory, DealFactory, ProductCategoryFactory
from tests.utils import assert_constant_queries

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(db, settings):
    settings.LANGUAGE_CODE = "en"
    User.objects.update(preferred_language="en")


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_csv_lists_the_visible_filtered_deals_in_the_page_order(client_for, org):
    category = ProductCategoryFactory(name="Cloud")
    account = AccountFactory(owner=org.rep_a, name="Evergreen")
    DealFactory(account=account, name="Big", amount=Decimal("900000"), product_category=category)
    DealFactory(account=account, name="Small", amount=Decimal("1000"), product_category=category)
    DealFactory(account=account, name="Other category", amount=Decimal("5000"))
    DealFactory(account=AccountFactory(owner=org.rep_b), name="Sibling secret")
    client = client_for(org.rep_a)
    response = client.get(
        reverse("pipeline:deal_export", args=["csv"]),
        {"product_category": category.pk, "sort": "-amount"},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="deals-' in response["Content-Disposition"]
    rows = csv_rows(response)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Id", "Deal name", "Account"]
    assert [row[1] for row in body] == ["Big", "Small"]
    amount = header.index("Amount")
    assert [row[amount] for row in body] == ["900000.00", "1000.00"]
    assert all(row[2] == "Evergreen" for row in body)

    everything = csv_rows(client.get(reverse("pipeline:deal_export", args=["csv"])))
    assert "Sibling secret" not in {row[1] for row in everything}


def test_xlsx_has_the_same_rows(client_for, org):
    rival = CompetitorFactory(name="Rival Soft")
    deal = DealFactory(account=AccountFactory(owner=org.rep_a), name="Workbook deal")
    deal.competitors.add(rival)
    response = client_for(org.rep_a).get(reverse("pipeline:deal_export", args=["xlsx"]))
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    header = rows[0]
    assert rows[1][header.index("Deal name")] == "Workbook deal"
    assert rows[1][header.index("Competitors")] == "Rival Soft"
    assert Decimal(str(rows[1][header.index("Amount")])) == Decimal("100000")


def test_formula_like_text_is_neutralised(client_for, org):
    account = AccountFactory(owner=org.rep_a, name='=HYPERLINK("http://x")')
    for name in ("=1+1", "+SUM(A1)", "-2+3", "@cmd", "Plain"):
        DealFactory(account=account, name=name)
    client = client_for(org.rep_a)
    rows = csv_rows(client.get(reverse("pipeline:deal_export", args=["csv"]), {"sort": "name"}))
    names = {row[1] for row in rows[1:]}
    assert names == {"'=1+1", "'+SUM(A1)", "'-2+3", "'@cmd", "Plain"}
    assert {row[2] for row in rows[1:]} == {'\'=HYPERLINK("http://x")'}
    sheet = openpyxl.load_workbook(
        io.BytesIO(client.get(reverse("pipeline:deal_export", args=["xlsx"])).content)
    ).active
    cells = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in cells)


def test_unknown_format_is_not_found(client_for, org):
    assert client_for(org.rep_a).get("/deals/export.pdf").status_code == 404


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_queries_do_not_grow_with_rows(client_for, org, file_format):
    client = client_for(org.sup_a)
    rival = CompetitorFactory()

    def add(count):
        account = AccountFactory(owner=org.rep_a1)
        for _ in range(count):
            DealFactory(account=account).competitors.add(rival)

    def export():
        response = client.get(reverse("pipeline:deal_export", args=[file_format]))
        if file_format == "csv":
            b"".join(response.streaming_content)
        return response

    assert_constant_queries(add, export)
