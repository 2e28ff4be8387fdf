"""Statements and disputes through the pages and the API: visibility (own, subtree, admin;
anything else 404), actions, bad input 400, query counts constant, XLSX neutralised."""

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from incentives import services
from incentives.models import Dispute, Statement, StatementLine
from tests.incentives.factories import Q1, plan, rule, won_deal
from tests.utils import assert_constant_queries

pytestmark = pytest.mark.django_db

D = Decimal
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def statements(org):
    people = [org.rep_a, org.rep_a1, org.rep_b, org.rep_north, org.sup_a]
    rule(plan(users=people), tiers=[], base_rate=D("10"))
    result = {}
    for person in people:
        won_deal(person, "1000", dt.date(2026, 2, 1), name=f"Deal of {person.username}")
        result[person.username] = services.statement_compute(user=person, period=Q1)
    return result


def test_a_rep_sees_only_their_own_statements(org, statements, client_for, token_client):
    mine, sibling = statements["rep_a"], statements["rep_b"]
    page = client_for(org.rep_a).get(reverse("incentives:my_statements"), **EN)
    assert page.status_code == 200
    assert reverse("incentives:statement_detail", args=[mine.pk]) in page.content.decode()
    web = client_for(org.rep_a)
    assert web.get(reverse("incentives:statement_detail", args=[mine.pk])).status_code == 200
    assert web.get(reverse("incentives:statement_detail", args=[sibling.pk])).status_code == 404
    assert web.get(reverse("incentives:statement_export", args=[sibling.pk])).status_code == 404
    assert web.get(reverse("incentives:team_statements")).status_code == 403

    api = token_client(org.rep_a)
    listed = api.get("/api/v1/statements/").json()
    assert [row["id"] for row in listed["results"]] == [mine.pk]
    assert api.get(f"/api/v1/statements/{sibling.pk}/").status_code == 404
    detail = api.get(f"/api/v1/statements/{mine.pk}/").json()
    assert detail["total"] == "100.00"
    assert detail["lines"][0]["explanation"].startswith("Deal of rep_a")


def test_a_manager_sees_their_subtree(org, statements, client_for, token_client):
    api = token_client(org.sup_a)
    ids = {row["user"]["username"] for row in api.get("/api/v1/statements/").json()["results"]}
    assert ids == {"rep_a", "rep_a1", "sup_a"}
    page = client_for(org.sup_a).get(reverse("incentives:team_statements"), **EN)
    html = page.content.decode()
    assert "Deal of" not in html  # the list shows totals, not lines
    assert str(org.rep_a) in html and str(org.rep_a1) in html
    assert str(org.rep_b) not in html
    own = reverse("incentives:statement_detail", args=[statements["sup_a"].pk])
    assert own not in html  # a manager does not approve their own
    admin_ids = {
        row["id"] for row in token_client(org.admin).get("/api/v1/statements/").json()["results"]
    }
    assert admin_ids == {statement.pk for statement in statements.values()}


def test_approve_and_mark_paid_through_the_api(org, statements, token_client):
    statement = statements["rep_a"]
    assert (
        token_client(org.rep_a).post(f"/api/v1/statements/{statement.pk}/approve/").status_code
        == 403
    )
    assert (
        token_client(org.sup_b).post(f"/api/v1/statements/{statement.pk}/approve/").status_code
        == 404
    )
    response = token_client(org.sup_a).post(f"/api/v1/statements/{statement.pk}/approve/")
    assert response.status_code == 200 and response.json()["status"] == "approved"
    again = token_client(org.sup_a).post(f"/api/v1/statements/{statement.pk}/approve/")
    assert again.status_code == 400 and "status" in again.json()
    assert (
        token_client(org.sup_a).post(f"/api/v1/statements/{statement.pk}/mark-paid/").status_code
        == 403
    )
    paid = token_client(org.admin).post(f"/api/v1/statements/{statement.pk}/mark-paid/")
    assert paid.json()["status"] == "paid"


def test_approve_on_the_team_page(org, statements, client_for):
    statement = statements["rep_a1"]
    response = client_for(org.sup_a).post(
        reverse("incentives:statement_approve", args=[statement.pk]), {"next": "team"}
    )
    assert response.status_code == 302
    statement.refresh_from_db()
    assert statement.status == Statement.Status.APPROVED and statement.approved_by == org.sup_a


def test_dispute_through_the_pages(org, statements, client_for):
    statement = statements["rep_a"]
    line = statement.lines.get()
    rep = client_for(org.rep_a)
    url = reverse("incentives:dispute_raise", args=[line.pk])
    assert client_for(org.rep_a1).get(url).status_code == 404
    empty = rep.post(url, {"comment": ""}, **EN)
    assert empty.status_code == 200 and not Dispute.objects.exists()
    assert rep.post(url, {"comment": "Rate should be 12%"}).status_code == 302
    dispute = Dispute.objects.get()

    resolve_url = reverse("incentives:dispute_resolve", args=[dispute.pk])
    assert client_for(org.rep_b).get(resolve_url).status_code == 404
    assert rep.post(resolve_url, {"decision": "reject", "resolution": "x"}).status_code == 403
    manager = client_for(org.sup_a)
    missing = manager.post(resolve_url, {"decision": "accept", "resolution": "Yes"}, **EN)
    assert "Give the amount" in missing.content.decode()
    done = manager.post(
        resolve_url, {"decision": "accept", "resolution": "Yes", "adjustment": "20.00"}
    )
    assert done.status_code == 302
    statement.refresh_from_db()
    # The disputed statement is still a draft: the adjustment lands in it.
    assert statement.total == D("120.00")
    assert statement.lines.filter(kind="adjustment").get().amount == D("20.00")


def test_disputes_api_bad_input_and_visibility(org, statements, token_client):
    mine = statements["rep_a"].lines.get()
    theirs = statements["rep_b"].lines.get()
    api = token_client(org.rep_a)
    assert api.post("/api/v1/disputes/", {"line": theirs.pk, "comment": "x"}).status_code == 400
    blank = api.post("/api/v1/disputes/", {"line": mine.pk, "comment": ""})
    assert blank.status_code == 400 and "comment" in blank.json()
    created = api.post("/api/v1/disputes/", {"line": mine.pk, "comment": "Too low"})
    assert created.status_code == 201
    dispute_id = created.json()["id"]
    assert token_client(org.rep_b).get(f"/api/v1/disputes/{dispute_id}/").status_code == 404
    bad = token_client(org.sup_a).post(
        f"/api/v1/disputes/{dispute_id}/resolve/", {"accept": True, "resolution": "ok"}
    )
    assert bad.status_code == 400 and "adjustment" in bad.json()
    assert Dispute.objects.get().status == "open"
    ok = token_client(org.sup_a).post(
        f"/api/v1/disputes/{dispute_id}/resolve/", {"accept": False, "resolution": "No"}
    )
    assert ok.status_code == 200 and ok.json()["status"] == "rejected"


def test_plans_admin_writes_others_read(org, token_client):
    body = {"name": "Reps 2026", "effective_from": "2026-01-01", "period": "quarter"}
    assert token_client(org.rep_a).post("/api/v1/commission-plans/", body).status_code == 403
    created = token_client(org.admin).post(
        "/api/v1/commission-plans/", {**body, "users": [org.rep_a.pk]}, format="json"
    )
    assert created.status_code == 201
    plan_id = created.json()["id"]
    clash = token_client(org.admin).post(
        "/api/v1/commission-plans/",
        {**body, "name": "Other", "users": [org.rep_a.pk]},
        format="json",
    )
    assert clash.status_code == 400 and "users" in clash.json()
    rule_body = {
        "plan": plan_id,
        "name": "Revenue",
        "tier_mode": "marginal",
        "tiers": [
            {"from_percent": "0", "to_percent": "80", "rate": "3"},
            {"from_percent": "70", "to_percent": None, "rate": "5"},
        ],
    }
    overlap = token_client(org.admin).post("/api/v1/commission-rules/", rule_body, format="json")
    assert overlap.status_code == 400 and "tiers" in overlap.json()
    rule_body["tiers"][1]["from_percent"] = "80"
    made = token_client(org.admin).post("/api/v1/commission-rules/", rule_body, format="json")
    assert made.status_code == 201 and len(made.json()["tiers"]) == 2
    assert token_client(org.rep_a).get("/api/v1/commission-rules/").json()["count"] == 1
    bonus_bad = token_client(org.admin).post(
        "/api/v1/bonus-rules/", {"plan": plan_id, "name": "B", "kind": "large_deal"}
    )
    assert bonus_bad.status_code == 400 and "amount" in bonus_bad.json()


def test_commission_estimate(org, token_client):
    rep = org.rep_a
    today = dt.date.today()
    rule(plan(users=[rep], start=today.replace(month=1, day=1)), tiers=[], base_rate=D("5"))
    deal = won_deal(rep, "20000", today)
    open_deal = type(deal).objects.get(pk=deal.pk)
    type(deal).objects.filter(pk=deal.pk).update(status="open", closed_at=None)
    api = token_client(rep)
    response = api.get(f"/api/v1/reports/commission-estimate/?deal={open_deal.pk}")
    assert response.status_code == 200
    assert response.json()["amount"] == "1000.00"  # 20,000 x 5%
    assert api.get("/api/v1/reports/commission-estimate/?deal=abc").status_code == 400
    other = won_deal(org.rep_b, "1000", today)
    assert api.get(f"/api/v1/reports/commission-estimate/?deal={other.pk}").status_code == 404


def test_statement_xlsx_neutralises_formulas(org, client_for):
    rep = org.rep_a
    rule(plan(users=[rep]), tiers=[], base_rate=D("10"))
    won_deal(rep, "1000", dt.date(2026, 2, 1), name='=HYPERLINK("http://x")')
    statement = services.statement_compute(user=rep, period=Q1)
    response = client_for(rep).get(reverse("incentives:statement_export", args=[statement.pk]))
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cells = [cell for row in sheet.iter_rows(values_only=True) for cell in row if cell]
    assert '\'=HYPERLINK("http://x")' in cells
    explanations = [c for c in cells if isinstance(c, str) and "HYPERLINK" in c]
    assert all(not text.startswith("=") for text in explanations)


def test_payroll_export_one_row_per_person(org, statements, client_for):
    for name in ("rep_a", "rep_b"):
        services.statement_approve(by=org.east_mgr, statement=statements[name])
    url = reverse("incentives:payroll")
    assert client_for(org.east_mgr).get(url).status_code == 403
    admin = client_for(org.admin)
    page = admin.get(url, {"start": "2026-01-01", "end": "2026-03-31"}, **EN)
    assert page.status_code == 200
    assert "rep_a" in page.content.decode() and "rep_a1" not in page.content.decode()
    response = admin.get(url, {"start": "2026-01-01", "end": "2026-03-31", "format": "xlsx"})
    rows = list(
        openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
    )
    assert [row[0] for row in rows[1:]] == ["rep_a", "rep_b"]
    assert rows[1][-1] == 100
    bad = admin.get(url, {"start": "2026-03-31", "end": "2026-01-01"}, **EN)
    assert "The end cannot be before the start." in bad.content.decode()


def _add_statements(org, count):
    the_plan = plan(users=[], name=f"Bulk {count}", start=dt.date(2020, 1, 1))
    for index in range(count):
        user = type(org.rep_a).objects.create(
            username=f"bulk{Statement.objects.count()}-{index}", team=org.east_a
        )
        statement = Statement.objects.create(
            user=user, start=Q1[0], end=Q1[1], plan=the_plan, total=D("1")
        )
        StatementLine.objects.create(
            statement=statement, kind="commission", amount=D("1"), explanation="x", source_key="k"
        )


def test_statement_lists_query_counts_are_constant(org, client_for, token_client):
    web = client_for(org.sup_a)
    api = token_client(org.sup_a)
    assert_constant_queries(
        lambda n: _add_statements(org, n),
        lambda: web.get(reverse("incentives:team_statements")),
    )
    assert_constant_queries(
        lambda n: _add_statements(org, n), lambda: api.get("/api/v1/statements/")
    )


def test_dispute_list_query_counts_are_constant(org, client_for, token_client):
    def add(count):
        _add_statements(org, count)
        for line in StatementLine.objects.filter(disputes__isnull=True):
            Dispute.objects.create(line=line, raised_by=line.statement.user, comment="c")

    web = client_for(org.sup_a)
    assert_constant_queries(add, lambda: web.get(reverse("incentives:dispute_list")))
    api = token_client(org.sup_a)
    assert_constant_queries(add, lambda: api.get("/api/v1/disputes/"))


def test_split_a_deal_through_the_api(org, token_client):
    deal = won_deal(org.rep_a, "1000", dt.date(2026, 2, 1))
    manager = token_client(org.sup_a)
    shares = {"deal": deal.pk, "shares": [{"user": org.rep_a.pk, "percent": "70"}]}
    uneven = manager.post("/api/v1/deal-credits/set/", shares, format="json")
    assert uneven.status_code == 400 and "shares" in uneven.json()
    shares["shares"].append({"user": org.rep_a1.pk, "percent": "30"})
    assert (
        token_client(org.rep_b).post("/api/v1/deal-credits/set/", shares, format="json").status_code
        == 404
    )
    done = manager.post("/api/v1/deal-credits/set/", shares, format="json")
    assert done.status_code == 200
    assert sorted(row["percent"] for row in done.json()) == ["30.00", "70.00"]
    assert (
        token_client(org.rep_a1).get(f"/api/v1/deal-credits/?deal={deal.pk}").json()["count"] == 0
    )  # rep_a1 cannot see rep_a's deal
    assert manager.get(f"/api/v1/deal-credits/?deal={deal.pk}").json()["count"] == 2


def test_plan_and_credit_lists_query_counts_are_constant(org, token_client):
    api = token_client(org.sup_a)

    def add_credits(count):
        for _index in range(count):
            deal = won_deal(org.rep_a, "1000", dt.date(2026, 2, 1))
            services.deal_credits_set(
                by=None, deal=deal, shares=[(org.rep_a, 50), (org.rep_a1, 50)]
            )

    assert_constant_queries(add_credits, lambda: api.get("/api/v1/deal-credits/"))

    def add_plans(count):
        for _index in range(count):
            made = plan(name=f"p{_index}", start=dt.date(2030, 1, 1) + dt.timedelta(days=_index))
            rule(made)

    assert_constant_queries(add_plans, lambda: api.get("/api/v1/commission-plans/"))
    assert_constant_queries(add_plans, lambda: api.get("/api/v1/commission-rules/"))
    assert_constant_queries(add_plans, lambda: api.get("/api/v1/bonus-rules/"))


def test_my_statements_and_payroll_query_counts_are_constant(org, client_for):
    the_plan = plan(users=[], name="History", start=dt.date(2000, 1, 1))

    def add(count):
        first = dt.date(2000 + Statement.objects.filter(user=org.rep_a).count(), 1, 1)
        for index in range(count):
            start = dt.date(first.year + index, 1, 1)
            Statement.objects.create(
                user=org.rep_a,
                start=start,
                end=start.replace(month=3, day=31),
                plan=the_plan,
                status="approved",
                total=D("5"),
            )
            other = type(org.rep_a).objects.create(
                username=f"payroll-{Statement.objects.count()}", team=org.east_a
            )
            Statement.objects.create(
                user=other, start=Q1[0], end=Q1[1], plan=the_plan, status="paid", total=D("1")
            )

    rep = client_for(org.rep_a)
    assert_constant_queries(add, lambda: rep.get(reverse("incentives:my_statements")))
    admin = client_for(org.admin)
    url = reverse("incentives:payroll") + "?start=2026-01-01&end=2026-03-31"
    assert_constant_queries(add, lambda: admin.get(url))
