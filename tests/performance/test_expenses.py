"""Expenses: a rep submits, a manager who sees them approves or rejects with a reason, and
everyone sees only the expenses of the people they see."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from performance import selectors, services
from performance.models import Expense
from tests.customers.factories import AccountFactory
from tests.performance.reviews import expense
from tests.utils import assert_constant_queries

pytestmark = pytest.mark.django_db


def submit(user, amount="120.50", **fields):
    return services.expense_submit(
        by=user,
        date=fields.pop("date", dt.date(2026, 3, 3)),
        category=fields.pop("category", Expense.Category.HOSPITALITY),
        amount=Decimal(amount),
        **fields,
    )


def test_the_submitters_manager_approves_or_rejects_once(org):
    spent = submit(org.rep_a1)
    assert spent.status == Expense.Status.SUBMITTED
    for outsider in (org.rep_a1, org.rep_a, org.sup_b, org.north_mgr):
        with pytest.raises(PermissionDenied):
            services.expense_approve(by=outsider, expense=spent)
    services.expense_approve(by=org.lead_a1, expense=spent)
    spent.refresh_from_db()
    assert spent.status == Expense.Status.APPROVED and spent.decided_by == org.lead_a1
    with pytest.raises(ValidationError):
        services.expense_reject(by=org.sup_a, expense=spent, reason="late")
    other = submit(org.rep_a1, "99")
    with pytest.raises(ValidationError) as error:
        services.expense_reject(by=org.sup_a, expense=other, reason="  ")
    assert "reason" in error.value.message_dict
    services.expense_reject(by=org.sup_a, expense=other, reason="No receipt")
    other.refresh_from_db()
    assert other.status == Expense.Status.REJECTED and other.rejection_reason == "No receipt"


def test_bad_expenses_are_refused_and_nothing_is_stored(org):
    with pytest.raises(ValidationError) as error:
        submit(org.rep_a, "0")
    assert "amount" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        submit(org.rep_a, category="yacht")
    assert "category" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        submit(org.rep_a, account=AccountFactory(owner=org.rep_b))
    assert "account" in error.value.message_dict
    assert not Expense.objects.exists()


def test_only_the_submitter_changes_an_undecided_expense(org):
    spent = submit(org.rep_a)
    with pytest.raises(PermissionDenied):
        services.expense_update(by=org.sup_a, expense=spent, amount=Decimal("1"))
    services.expense_update(by=org.rep_a, expense=spent, amount=Decimal("80"))
    services.expense_approve(by=org.sup_a, expense=spent)
    with pytest.raises(ValidationError):
        services.expense_update(by=org.rep_a, expense=spent, amount=Decimal("8000"))
    spent.refresh_from_db()
    assert spent.amount == Decimal("80.00")


def test_expense_visibility_on_pages_and_api(org, client_for, token_client):
    mine = submit(org.rep_a1, "10")
    theirs = submit(org.rep_b, "20")
    for viewer, sees in [
        (org.rep_a1, {mine.pk}),
        (org.lead_a1, {mine.pk}),
        (org.sup_a, {mine.pk}),
        (org.sup_b, {theirs.pk}),
        (org.east_mgr, {mine.pk, theirs.pk}),
        (org.north_mgr, set()),
    ]:
        api = token_client(viewer)
        listed = {row["id"] for row in api.get("/api/v1/expenses/").json()["results"]}
        assert listed == sees, viewer.username
        for spent in (mine, theirs):
            expected = 200 if spent.pk in sees else 404
            assert api.get(f"/api/v1/expenses/{spent.pk}/").status_code == expected
            if expected == 404:
                assert api.post(f"/api/v1/expenses/{spent.pk}/approve/").status_code == 404
                assert client_for(viewer).post(f"/expenses/{spent.pk}/approve/").status_code == 404
    assert set(selectors.expenses_to_decide(viewer=org.sup_a)) == {mine}
    assert set(selectors.expenses_to_decide(viewer=org.rep_a1)) == set()


def test_the_api_submits_approves_and_rejects_with_field_messages(org, token_client):
    rep, manager = token_client(org.rep_a), token_client(org.sup_a)
    bad = rep.post(
        "/api/v1/expenses/",
        {"date": "2026-03-01", "category": "travel", "amount": "-5"},
        format="json",
    )
    assert bad.status_code == 400 and "amount" in bad.json()
    foreign = AccountFactory(owner=org.rep_b)
    bad = rep.post(
        "/api/v1/expenses/",
        {"date": "2026-03-01", "category": "travel", "amount": "5", "account": foreign.pk},
        format="json",
    )
    assert bad.status_code == 400 and "account" in bad.json()
    made = rep.post(
        "/api/v1/expenses/",
        {"date": "2026-03-01", "category": "travel", "amount": "300.10", "user": org.rep_b.pk},
        format="json",
    )
    assert made.status_code == 201
    assert made.json()["user"] == org.rep_a.pk and made.json()["status"] == "submitted"
    pk = made.json()["id"]
    assert rep.post(f"/api/v1/expenses/{pk}/approve/").status_code == 403
    assert manager.post(f"/api/v1/expenses/{pk}/reject/", {}, format="json").status_code == 400
    approved = manager.post(f"/api/v1/expenses/{pk}/approve/")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert rep.delete(f"/api/v1/expenses/{pk}/").status_code == 400


def test_the_expense_page_submits_and_the_manager_decides(org, client_for):
    rep = client_for(org.rep_a)
    bad = rep.post("/expenses/", {"date": "2026-03-01", "category": "travel", "amount": "abc"})
    assert bad.status_code == 400 and not Expense.objects.exists()
    ok = rep.post(
        "/expenses/",
        {"date": "2026-03-01", "category": "travel", "amount": "45.60", "note": "Taxi"},
    )
    assert ok.status_code == 302
    spent = Expense.objects.get()
    page = client_for(org.sup_a).get("/expenses/").content.decode()
    assert f"/expenses/{spent.pk}/approve/" in page
    client_for(org.sup_a).post(f"/expenses/{spent.pk}/reject/", {"reason": "Personal"})
    spent.refresh_from_db()
    assert spent.status == Expense.Status.REJECTED and spent.rejection_reason == "Personal"


def test_expense_lists_cost_the_same_queries_for_5_and_50(org, client_for, token_client):
    def add(count):
        for n in range(count):
            expense(
                org.rep_a,
                10 + n,
                dt.date(2026, 3, 1),
                status=Expense.Status.SUBMITTED,
                account=AccountFactory(owner=org.rep_a),
            )

    browser, api = client_for(org.sup_a), token_client(org.sup_a)
    assert_constant_queries(add, lambda: browser.get("/expenses/"))
    Expense.objects.all().delete()
    assert_constant_queries(add, lambda: api.get("/api/v1/expenses/"))
