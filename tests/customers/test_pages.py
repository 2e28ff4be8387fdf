"""The customers browser pages for each role: visibility on every list, detail, search and the
follow-ups; htmx partials; forms that refuse bad input and change nothing; escaped user text;
constant query counts."""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from customers.models import Account, AccountMerge, Contact, FollowUp, Interaction
from teams.models import User
from tests.customers.factories import (
    AccountFactory,
    ContactFactory,
    FollowUpFactory,
    IndustryFactory,
    InteractionFactory,
    LeadScoringRuleFactory,
    TagFactory,
)
from tests.utils import assert_constant_queries

pytestmark = pytest.mark.django_db

ROLES = ["rep_a", "sup_a", "east_mgr", "admin"]


@pytest.fixture(autouse=True)
def english(db, settings):
    """English pages for everyone, so the tests can look for English messages."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def data(org):
    User.objects.update(preferred_language="en")
    d = SimpleNamespace(org=org)
    d.mine = AccountFactory(owner=org.rep_a, name="华为技术", phone="0755-28780808")
    d.sibling = AccountFactory(owner=org.rep_b, name="Sibling Secret Co")
    d.below = AccountFactory(owner=org.rep_a1, name="Below Works")
    d.north = AccountFactory(owner=org.rep_north, name="Northern Lights")
    d.pool_a = AccountFactory(owner=None, pool_team=org.east_a, name="Pool Alpha")
    d.mine_contact = ContactFactory(account=d.mine, name="张伟", is_primary=True)
    d.sibling_contact = ContactFactory(account=d.sibling, name="Hidden Person")
    d.mine_followup = FollowUpFactory(account=d.mine, title="Call about the quote")
    d.sibling_followup = FollowUpFactory(account=d.sibling, title="Sibling secret task")
    return d


def names_on(content: str) -> set[str]:
    return set(re.findall(r'<a href="/accounts/\d+/">([^<]+)</a>', content))


VISIBLE = {
    "rep_a": {"华为技术", "Pool Alpha"},
    "sup_a": {"华为技术", "Below Works", "Pool Alpha"},
    "east_mgr": {"华为技术", "Sibling Secret Co", "Below Works", "Pool Alpha"},
    "admin": {"华为技术", "Sibling Secret Co", "Below Works", "Northern Lights", "Pool Alpha"},
}


@pytest.mark.parametrize("who", ROLES)
def test_account_list_shows_exactly_the_visible_accounts(data, client_for, who):
    response = client_for(getattr(data.org, who)).get("/accounts/")
    assert response.status_code == 200
    assert names_on(response.content.decode()) == VISIBLE[who]


@pytest.mark.parametrize("who", ROLES)
def test_account_pages_answer_404_outside_the_visible_set(data, client_for, who):
    browser = client_for(getattr(data.org, who))
    for account in Account.objects.all():
        expected = 200 if account.name in VISIBLE[who] else 404
        assert browser.get(f"/accounts/{account.pk}/").status_code == expected, account.name
        assert (
            browser.post(f"/accounts/{account.pk}/interactions/", {"subject": "x"}).status_code
            != 404
        ) == (expected == 200)


def test_a_rep_never_sees_a_siblings_account_anywhere(data, client_for):
    browser = client_for(data.org.rep_a)
    pages = [
        "/accounts/",
        "/accounts/?q=Sibling",
        "/accounts/?q=Hidden",
        "/contacts/",
        "/contacts/?q=Hidden",
        "/follow-ups/",
        "/pool/",
        "/",
        f"/accounts/{data.mine.pk}/",
    ]
    for page in pages:
        content = browser.get(page).content.decode()
        assert "Sibling Secret" not in content, page
        assert "Hidden Person" not in content, page
        assert "Sibling secret task" not in content, page
    for path in (
        f"/accounts/{data.sibling.pk}/edit/",
        f"/accounts/{data.sibling.pk}/delete/",
        f"/contacts/{data.sibling_contact.pk}/",
        f"/contacts/{data.sibling_contact.pk}/edit/",
        f"/contacts/new/?account={data.sibling.pk}",
    ):
        assert browser.get(path).status_code == 404, path
    for path in (
        f"/follow-ups/{data.sibling_followup.pk}/done/",
        f"/follow-ups/{data.sibling_followup.pk}/snooze/",
        f"/accounts/{data.sibling.pk}/release/",
        f"/accounts/{data.sibling.pk}/claim/",
    ):
        assert browser.post(path, {"days": 1}).status_code == 404, path
    data.sibling_followup.refresh_from_db()
    assert data.sibling_followup.status == FollowUp.Status.OPEN


def test_search_finds_by_pinyin_initials_contact_and_phone(data, client_for):
    browser = client_for(data.org.east_mgr)
    assert names_on(browser.get("/accounts/?q=hwjs").content.decode()) == {"华为技术"}
    assert names_on(browser.get("/accounts/?q=zhangwei").content.decode()) == {"华为技术"}
    assert names_on(browser.get("/accounts/?q=28780808").content.decode()) == {"华为技术"}
    contacts = browser.get("/contacts/?q=hidden").content.decode()
    assert "Hidden Person" in contacts
    assert (
        "Hidden Person"
        not in client_for(data.org.rep_a).get("/contacts/?q=hidden").content.decode()
    )


def test_account_list_filters_sort_and_htmx_partial(data, client_for):
    industry = IndustryFactory(code="retail-x", name="Retail X")
    Account.objects.filter(pk=data.below.pk).update(industry=industry, status="customer")
    tag = TagFactory(name="vip")
    data.mine.tags.add(tag)
    browser = client_for(data.org.east_mgr)
    assert names_on(browser.get(f"/accounts/?industry={industry.pk}").content.decode()) == {
        "Below Works"
    }
    assert names_on(browser.get("/accounts/?status=customer").content.decode()) == {"Below Works"}
    assert names_on(browser.get(f"/accounts/?tags={tag.pk}").content.decode()) == {"华为技术"}
    assert names_on(browser.get(f"/accounts/?team={data.org.east_b.pk}").content.decode()) == {
        "Sibling Secret Co"
    }
    assert (
        names_on(browser.get("/accounts/?no_contact_days=5").content.decode())
        == VISIBLE["east_mgr"]
    )
    content = browser.get("/accounts/?sort=name").content.decode()
    order = re.findall(r'<a href="/accounts/\d+/">([^<]+)</a>', content)
    assert order == sorted(order)
    # A team outside the visible set is not a valid choice and widens nothing.
    outside = browser.get(f"/accounts/?team={data.org.north.pk}").content.decode()
    assert "Northern Lights" not in outside
    partial = browser.get("/accounts/?q=Below", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "Below Works" in partial and "华为技术" not in partial


def test_bulk_tag_and_reassign_for_managers_only(data, client_for):
    tag = TagFactory(name="campaign-2026")
    manager = client_for(data.org.east_mgr)
    ids = [data.mine.pk, data.sibling.pk]
    response = manager.post("/accounts/bulk/", {"accounts": ids, "action": "tag", "tags": [tag.pk]})
    assert response.status_code == 302
    assert set(tag.accounts.values_list("pk", flat=True)) == set(ids)
    manager.post(
        "/accounts/bulk/",
        {"accounts": [data.sibling.pk], "action": "reassign", "to_user": data.org.rep_a.pk},
    )
    data.sibling.refresh_from_db()
    assert data.sibling.owner == data.org.rep_a
    # A rep may not reassign, and an invisible account is not a valid choice.
    rep = client_for(data.org.rep_b)
    rep.post(
        "/accounts/bulk/",
        {"accounts": [data.mine.pk], "action": "reassign", "to_user": data.org.rep_b.pk},
    )
    data.mine.refresh_from_db()
    assert data.mine.owner == data.org.rep_a
    assert "bulk-form" not in client_for(data.org.rep_a).get("/accounts/").content.decode()
    # A missing tag is a clear error that changes nothing.
    follow = manager.post(
        "/accounts/bulk/", {"accounts": [data.below.pk], "action": "tag"}, follow=True
    )
    assert "Choose at least one tag." in follow.content.decode()
    assert not data.below.tags.exists()


def test_account_page_shows_score_contacts_timeline(data, client_for):
    LeadScoringRuleFactory(name="Big company", value="200", points=15)
    Account.objects.filter(pk=data.mine.pk).update(size_band=500)
    InteractionFactory(account=data.mine, subject="Kick-off meeting")
    content = client_for(data.org.rep_a).get(f"/accounts/{data.mine.pk}/").content.decode()
    assert "Big company" in content and "+15" in content
    assert "张伟" in content and "Kick-off meeting" in content
    assert "Call about the quote" in content
    assert "Release to pool" in content
    assert "/accounts/merge/" not in content  # merging is for managers
    manager_view = client_for(data.org.east_mgr).get(f"/accounts/{data.mine.pk}/")
    assert f"/accounts/merge/?survivor={data.mine.pk}" in manager_view.content.decode()


def test_the_timeline_names_who_logged_each_entry(data, client_for):
    User.objects.filter(pk=data.org.rep_a.pk).update(first_name="明", last_name="李")
    User.objects.filter(pk=data.org.sup_a.pk).update(first_name="Grace", last_name="Hopper")
    InteractionFactory(account=data.mine, subject="Site visit", logged_by=data.org.sup_a)
    content = client_for(data.org.rep_a).get(f"/accounts/{data.mine.pk}/").content.decode()
    timeline = content[content.index('<ol class="timeline"') :]
    entries = re.findall(r"<li class=\"timeline-[^\"]+\">.*?</li>", timeline, flags=re.S)
    by_title = {
        title: entry
        for entry in entries
        for title in ("Site visit", "Call about the quote")
        if title in entry
    }
    assert "Grace Hopper" in by_title["Site visit"]
    assert "李明" in by_title["Call about the quote"]


def test_log_interaction_with_next_step_over_htmx(data, client_for):
    browser = client_for(data.org.rep_a)
    due = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = browser.post(
        f"/accounts/{data.mine.pk}/interactions/",
        {
            "kind": "call",
            "subject": "Discussed pricing",
            "summary": "They liked it",
            "contact": data.mine_contact.pk,
            "next_step": "Send the contract",
            "next_step_due": due,
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content and 'id="activity"' in content
    assert "Discussed pricing" in content and "Send the contract" in content
    # The form comes back empty.
    assert 'value="Discussed pricing"' not in content
    # The header (score, last contact) follows out of band.
    assert '<p class="header-facts" id="account-header-facts" hx-swap-oob="true">' in content
    assert "Last contacted" in content
    assert '<section class="card" id="account-score" hx-swap-oob="true">' in content
    interaction = Interaction.objects.get(subject="Discussed pricing")
    assert interaction.logged_by == data.org.rep_a
    followup = FollowUp.objects.get(title="Send the contract")
    assert followup.assignee == data.org.rep_a and followup.interaction == interaction
    data.mine.refresh_from_db()
    assert data.mine.last_contacted_at is not None
    assert "Send the contract" in browser.get("/follow-ups/").content.decode()


def test_log_interaction_bad_input_shows_errors_and_writes_nothing(data, client_for):
    browser = client_for(data.org.rep_a)
    before = Interaction.objects.count(), FollowUp.objects.count()
    response = browser.post(
        f"/accounts/{data.mine.pk}/interactions/",
        {"kind": "call", "subject": "", "next_step_due": "2030-01-01T10:00"},
        HTTP_HX_REQUEST="true",
    )
    content = response.content.decode()
    assert "This field is required." in content or "这个字段是必填项" in content
    assert "Describe the next step that is due." in content or "next_step" in content
    # A contact of another account is not a valid choice.
    response = browser.post(
        f"/accounts/{data.mine.pk}/interactions/",
        {"kind": "call", "subject": "Sneaky", "contact": data.sibling_contact.pk},
    )
    assert response.status_code == 400
    assert (Interaction.objects.count(), FollowUp.objects.count()) == before


def test_stored_xss_is_escaped(data, client_for):
    payload = '<script>alert("x")</script>'
    Account.objects.filter(pk=data.mine.pk).update(notes=payload)
    InteractionFactory(account=data.mine, subject=payload, summary=payload)
    FollowUpFactory(account=data.mine, title=payload, note=payload)
    browser = client_for(data.org.rep_a)
    for page in (
        f"/accounts/{data.mine.pk}/",
        "/follow-ups/",
        "/",
        f"/contacts/{data.mine_contact.pk}/",
    ):
        content = browser.get(page).content.decode()
        assert payload not in content, page
    content = browser.get(f"/accounts/{data.mine.pk}/").content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in content


def test_create_account_warns_about_duplicates_and_allows_creating_anyway(data, client_for):
    browser = client_for(data.org.rep_a)
    response = browser.post(
        "/accounts/new/", {"name": "华为技术有限公司", "status": "lead", "source": "manual"}
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert "This company may already exist" in content or "allow_duplicate" in content
    assert f"/accounts/{data.mine.pk}/" in content
    assert "Sibling" not in content
    assert Account.objects.filter(name="华为技术有限公司").count() == 0
    response = browser.post(
        "/accounts/new/",
        {"name": "华为技术有限公司", "status": "lead", "source": "manual", "allow_duplicate": "on"},
    )
    assert response.status_code == 302
    created = Account.objects.get(name="华为技术有限公司")
    assert created.owner == data.org.rep_a


def test_create_account_bad_input(data, client_for):
    browser = client_for(data.org.rep_a)
    count = Account.objects.count()
    response = browser.post(
        "/accounts/new/",
        {"name": "", "status": "lead", "source": "manual", "email": "not-an-email", "phone": "abc"},
    )
    assert response.status_code == 400
    assert 'class="field has-error"' in response.content.decode()
    # An owner outside the visible set is refused.
    response = browser.post(
        "/accounts/new/",
        {"name": "Fresh Co", "status": "lead", "source": "manual", "owner": data.org.rep_b.pk},
    )
    assert Account.objects.get(name="Fresh Co").owner == data.org.rep_a
    manager = client_for(data.org.sup_a)
    response = manager.post(
        "/accounts/new/",
        {"name": "Other Co", "status": "lead", "source": "manual", "owner": data.org.rep_b.pk},
    )
    assert response.status_code == 400
    assert Account.objects.count() == count + 1


def test_edit_and_delete_account(data, client_for):
    browser = client_for(data.org.rep_a)
    response = browser.post(
        f"/accounts/{data.mine.pk}/edit/",
        {"name": "华为技术", "status": "customer", "source": "manual", "notes": "Signed"},
    )
    assert response.status_code == 302
    data.mine.refresh_from_db()
    assert data.mine.status == "customer" and data.mine.notes == "Signed"
    # A rep cannot edit the pool account they see but do not own.
    assert browser.get(f"/accounts/{data.pool_a.pk}/edit/").status_code == 403
    assert browser.post(f"/accounts/{data.mine.pk}/delete/").status_code == 302
    assert browser.get(f"/accounts/{data.mine.pk}/").status_code == 404
    assert Account.all_objects.get(pk=data.mine.pk).deleted_at is not None


def test_release_and_claim(data, client_for):
    browser = client_for(data.org.rep_a)
    assert browser.post(f"/accounts/{data.mine.pk}/release/").status_code == 302
    data.mine.refresh_from_db()
    assert data.mine.owner is None and data.mine.in_pool
    # The cooling-off rule is shown clearly.
    response = browser.post(f"/accounts/{data.mine.pk}/claim/", HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert "You released this account recently" in content
    response = browser.post(f"/accounts/{data.pool_a.pk}/claim/", HTTP_HX_REQUEST="true")
    assert "Claimed" in response.content.decode()
    # The allowance above the table follows out of band.
    assert 'id="claim-allowance" class="allowance" hx-swap-oob="true"' in response.content.decode()
    assert "You own 1 of at most 200 accounts" in response.content.decode()
    data.pool_a.refresh_from_db()
    assert data.pool_a.owner == data.org.rep_a


def test_claim_cap_is_shown(data, client_for):
    from customers.models import CustomerSettings

    settings_row = CustomerSettings.load()
    settings_row.pool_claim_cap = 1
    settings_row.save()
    response = client_for(data.org.rep_a).post(f"/accounts/{data.pool_a.pk}/claim/", follow=True)
    assert "the most you may hold" in response.content.decode()
    data.pool_a.refresh_from_db()
    assert data.pool_a.owner is None


def test_merge_page_for_managers(data, client_for):
    assert client_for(data.org.rep_a).get("/accounts/merge/").status_code == 403
    manager = client_for(data.org.east_mgr)
    page = manager.get("/accounts/merge/").content.decode()
    assert "Northern Lights" not in page
    response = manager.post(
        "/accounts/merge/", {"survivor": data.mine.pk, "merged": data.sibling.pk}
    )
    assert response.status_code == 302
    assert AccountMerge.objects.filter(survivor=data.mine, merged=data.sibling).exists()
    assert Contact.objects.filter(account=data.mine, name="Hidden Person").exists()
    # An account outside the visible set is not a valid choice.
    response = manager.post("/accounts/merge/", {"survivor": data.mine.pk, "merged": data.north.pk})
    assert response.status_code == 400
    assert Account.objects.filter(pk=data.north.pk).exists()


def test_contact_pages(data, client_for):
    browser = client_for(data.org.rep_a)
    response = browser.post(
        "/contacts/new/",
        {
            "account": data.mine.pk,
            "name": "李娜",
            "email": "lina@example.cn",
            "preferred_channel": "",
        },
    )
    assert response.status_code == 302
    contact = Contact.objects.get(name="李娜")
    assert browser.get(f"/contacts/{contact.pk}/").status_code == 200
    response = browser.post(
        f"/contacts/{contact.pk}/edit/",
        {"account": data.mine.pk, "name": "李娜", "title": "CTO", "email": "bad"},
    )
    assert response.status_code == 400
    contact.refresh_from_db()
    assert contact.title == ""
    response = browser.post("/contacts/new/", {"account": data.sibling.pk, "name": "Intruder"})
    assert response.status_code == 400
    assert not Contact.objects.filter(name="Intruder").exists()
    assert browser.post(f"/contacts/{contact.pk}/delete/").status_code == 302
    assert browser.get(f"/contacts/{contact.pk}/").status_code == 404


def test_my_followups_buckets_done_and_snooze(data, client_for):
    now = timezone.now()
    overdue = FollowUpFactory(
        account=data.mine, title="Overdue one", due_at=now - timedelta(days=2)
    )
    upcoming = FollowUpFactory(account=data.mine, title="Later one", due_at=now + timedelta(days=5))
    browser = client_for(data.org.rep_a)
    content = browser.get("/follow-ups/").content.decode()
    assert "Overdue one" in content and "Later one" in content
    response = browser.post(f"/follow-ups/{overdue.pk}/done/", HTTP_HX_REQUEST="true")
    partial = response.content.decode()
    assert 'id="followup-counts"' in partial and 'hx-swap-oob="true"' in partial
    assert "Overdue one" not in partial
    overdue.refresh_from_db()
    assert overdue.status == FollowUp.Status.DONE
    before = upcoming.due_at
    response = browser.post(
        f"/follow-ups/{upcoming.pk}/snooze/", {"days": 3}, HTTP_HX_REQUEST="true"
    )
    assert "Later one" in response.content.decode()
    upcoming.refresh_from_db()
    assert upcoming.due_at == before + timedelta(days=3)
    # A bad snooze changes nothing.
    browser.post(f"/follow-ups/{upcoming.pk}/snooze/", {"days": 99})
    upcoming.refresh_from_db()
    assert upcoming.due_at == before + timedelta(days=3)
    # Done twice is a clear error, not a crash.
    again = browser.post(f"/follow-ups/{overdue.pk}/done/", HTTP_HX_REQUEST="true")
    assert "already closed" in again.content.decode()


def test_create_followup_form(data, client_for):
    browser = client_for(data.org.rep_a)
    due = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = browser.post(
        "/follow-ups/",
        {"account": data.mine.pk, "title": "Prepare demo", "due_at": due, "priority": 2},
    )
    assert response.status_code == 302
    assert FollowUp.objects.get(title="Prepare demo").assignee == data.org.rep_a
    response = browser.post(
        "/follow-ups/", {"account": data.sibling.pk, "title": "Nope", "due_at": due, "priority": 2}
    )
    assert response.status_code == 400
    assert not FollowUp.objects.filter(title="Nope").exists()


def test_home_page_shows_my_followups(data, client_for):
    FollowUpFactory(
        account=data.mine, title="Overdue call", due_at=timezone.now() - timedelta(hours=3)
    )
    content = client_for(data.org.rep_a).get("/").content.decode()
    assert "My follow-ups" in content and "Overdue call" in content
    assert "Sibling secret task" not in content


@pytest.mark.parametrize("who", ROLES)
def test_pool_page_lists_claimable_accounts(data, client_for, who):
    content = client_for(getattr(data.org, who)).get("/pool/").content.decode()
    assert "Pool Alpha" in content
    assert "华为技术" not in content


def test_pool_of_another_team_is_not_seen(data, client_for):
    content = client_for(data.org.rep_b).get("/pool/").content.decode()
    assert "Pool Alpha" not in content
    assert client_for(data.org.rep_b).get(f"/accounts/{data.pool_a.pk}/").status_code == 404


# Query counts


def test_account_list_queries_do_not_grow(org, client_for):
    browser = client_for(org.east_mgr)
    tag = TagFactory(name="t")

    def add(n):
        for _ in range(n):
            account = AccountFactory(owner=org.rep_a, tags=[tag])
            ContactFactory(account=account, is_primary=True)
            FollowUpFactory(account=account)

    assert_constant_queries(add, lambda: browser.get("/accounts/"))
    assert_constant_queries(add, lambda: browser.get("/accounts/", HTTP_HX_REQUEST="true"))


def test_account_page_queries_do_not_grow(org, client_for):
    account = AccountFactory(owner=org.rep_a)
    LeadScoringRuleFactory(field="contacts", operator="each", value="", points=1)
    browser = client_for(org.rep_a)

    def add(n):
        for _ in range(n):
            contact = ContactFactory(account=account)
            InteractionFactory(account=account, contact=contact)
            FollowUpFactory(account=account, contact=contact)

    assert_constant_queries(add, lambda: browser.get(f"/accounts/{account.pk}/"))


def test_followup_page_queries_do_not_grow(org, client_for):
    browser = client_for(org.rep_a)

    def add(n):
        for index in range(n):
            account = AccountFactory(owner=org.rep_a)
            FollowUpFactory(
                account=account, due_at=timezone.now() + timedelta(days=(index % 5) - 2)
            )

    assert_constant_queries(add, lambda: browser.get("/follow-ups/"))


def test_contact_and_pool_lists_queries_do_not_grow(org, client_for):
    browser = client_for(org.east_mgr)

    def add(n):
        for _ in range(n):
            ContactFactory(account=AccountFactory(owner=org.rep_a))
            AccountFactory(owner=None, pool_team=org.east_a)

    assert_constant_queries(add, lambda: browser.get("/contacts/"))
    assert_constant_queries(add, lambda: browser.get("/pool/"))


@pytest.mark.parametrize("who", ROLES)
def test_contact_list_and_pages_follow_the_visibility_rule(data, client_for, who):
    browser = client_for(getattr(data.org, who))
    sees_sibling = "Sibling Secret Co" in VISIBLE[who]
    content = browser.get("/contacts/").content.decode()
    assert "张伟" in content
    assert ("Hidden Person" in content) == sees_sibling
    expected = 200 if sees_sibling else 404
    assert browser.get(f"/contacts/{data.sibling_contact.pk}/").status_code == expected
    followups = browser.get("/follow-ups/").content.decode()
    # "My follow-ups" lists the viewer's own work only, even for a manager.
    assert "Sibling secret task" not in followups


@pytest.mark.parametrize("who", ROLES)
def test_every_page_opens_for_every_role(data, client_for, who):
    viewer = getattr(data.org, who)
    browser = client_for(viewer)
    manages = who != "rep_a"
    pages = {
        "/accounts/": 200,
        "/accounts/new/": 200,
        f"/accounts/{data.mine.pk}/": 200,
        f"/accounts/{data.mine.pk}/edit/": 200,
        f"/accounts/{data.mine.pk}/delete/": 200,
        "/accounts/merge/": 200 if manages else 403,
        "/contacts/": 200,
        "/contacts/new/": 200,
        f"/contacts/{data.mine_contact.pk}/": 200,
        f"/contacts/{data.mine_contact.pk}/edit/": 200,
        "/follow-ups/": 200,
        "/pool/": 200,
        "/": 200,
    }
    for path, expected in pages.items():
        assert browser.get(path).status_code == expected, path


def test_every_customer_page_with_an_id_is_404_for_a_record_out_of_sight(data, client_for):
    """Discovered from the URLconf, so a page added later is covered too."""
    from tests.security.urls import all_paths

    hidden = {
        "accounts": data.sibling.pk,
        "contacts": data.sibling_contact.pk,
        "follow-ups": data.sibling_followup.pk,
    }
    browser = client_for(data.org.rep_a)
    checked = 0
    for route in all_paths(value="{pk}"):
        parts = route.strip("/").split("/")
        if len(parts) < 2 or parts[0] not in hidden or parts[1] != "{pk}":
            continue
        path = route.replace("{pk}", str(hidden[parts[0]]))
        response = browser.get(path)
        if response.status_code == 405:
            response = browser.post(path, {"days": 1, "subject": "x", "kind": "call"})
        assert response.status_code == 404, path
        checked += 1
    assert checked >= 10


def test_editing_with_bad_input_changes_nothing(data, client_for):
    browser = client_for(data.org.rep_a)
    before = Account.objects.values().get(pk=data.mine.pk)
    for bad in (
        {"name": "", "status": "lead", "source": "manual"},
        {"name": "X", "status": "nonsense", "source": "manual"},
        {"name": "X", "status": "lead", "source": "manual", "industry": 999999},
        {"name": "X", "status": "lead", "source": "manual", "website": "not a url"},
    ):
        response = browser.post(f"/accounts/{data.mine.pk}/edit/", bad)
        assert response.status_code == 400, bad
        assert 'class="field has-error"' in response.content.decode(), bad
    assert Account.objects.values().get(pk=data.mine.pk) == before


def test_pool_page_shows_the_claim_allowance(data, client_for):
    content = client_for(data.org.rep_a).get("/pool/").content.decode()
    assert "You own 1 of at most 200 accounts: you can claim 199 more." in content


def test_sort_links_keep_the_filters_and_swap_the_table(data, client_for):
    browser = client_for(data.org.east_mgr)
    content = browser.get("/accounts/?status=prospect&sort=name").content.decode()
    assert 'href="?status=prospect&amp;sort=-name"' in content
    assert 'hx-get="?status=prospect&amp;sort=-name" hx-target="#account-table"' in content
    partial = browser.get("/accounts/?sort=-score", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="sort-input" value="-score" hx-swap-oob="true"' in partial


def test_a_manager_reassigns_on_the_edit_page_within_their_people(data, client_for):
    manager = client_for(data.org.sup_a)
    form = {"name": "华为技术", "status": "prospect", "source": "manual"}
    response = manager.post(
        f"/accounts/{data.mine.pk}/edit/", {**form, "owner": data.org.rep_a1.pk}
    )
    assert response.status_code == 302
    data.mine.refresh_from_db()
    assert data.mine.owner == data.org.rep_a1
    data.mine_followup.refresh_from_db()
    assert data.mine_followup.assignee == data.org.rep_a1  # open follow-ups move along
    # Someone outside sup_a's people is not a choice.
    response = manager.post(f"/accounts/{data.mine.pk}/edit/", {**form, "owner": data.org.rep_b.pk})
    assert response.status_code == 400
    data.mine.refresh_from_db()
    assert data.mine.owner == data.org.rep_a1
    # A rep's edit page has no owner field at all.
    rep_page = client_for(data.org.rep_a1).get(f"/accounts/{data.mine.pk}/edit/").content.decode()
    assert 'name="owner"' not in rep_page
