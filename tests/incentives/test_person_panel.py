"""The person page shows the person's awards and the latest kudos they received, and lets
anyone else who may open it send them kudos."""

import pytest

from incentives import services
from incentives.models import Award, AwardKind, Kudos
from teams.models import Notification
from tests.utils import assert_constant_queries

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def panel(html: str) -> str:
    start = html.index('<section class="card person-recognition-panel">')
    return html[start : html.index("</section>", start)]


def page(browser, person) -> str:
    response = browser.get(f"/people/{person.pk}/", **EN)
    assert response.status_code == 200
    return panel(response.content.decode())


def test_awards_and_kudos_show_on_the_person_page(org, client_for):
    services.award_grant(
        by=org.sup_a, user=org.rep_a, kind=AwardKind.TEAMWORK, title="Helped the whole team"
    )
    Award.objects.create(user=org.rep_b, kind=AwardKind.TEAMWORK, title="Someone else's award")
    services.kudos_give(by=org.rep_b, recipient=org.rep_a, message="Thanks for the demo!")
    services.kudos_give(by=org.rep_a, recipient=org.rep_b, message="Kudos rep_a gave")

    own = page(client_for(org.rep_a), org.rep_a)
    manager = page(client_for(org.sup_a), org.rep_a)
    for html in (own, manager):
        assert "Helped the whole team" in html and "Thanks for the demo!" in html
        assert "Someone else&#x27;s award" not in html and "Kudos rep_a gave" not in html
    # Only someone else praises the person.
    assert "Give kudos" not in own
    assert "Give kudos" in manager and f'name="recipient" value="{org.rep_a.pk}"' in manager
    # The page itself stays closed to whoever may not see the person.
    assert client_for(org.rep_north).get(f"/people/{org.rep_a.pk}/").status_code == 404


def test_an_inactive_person_is_not_offered_kudos(org, client_for):
    org.rep_a.is_active = False
    org.rep_a.save(update_fields=["is_active"])
    assert "Give kudos" not in page(client_for(org.sup_a), org.rep_a)


def test_kudos_sent_from_the_person_page_return_there(org, client_for):
    url = f"/people/{org.rep_a.pk}/"
    response = client_for(org.sup_a).post(
        "/recognition/",
        {"action": "kudos", "recipient": org.rep_a.pk, "message": "Well done", "next": url},
    )
    assert response.status_code == 302 and response["Location"] == url
    assert Kudos.objects.get(recipient=org.rep_a).sender == org.sup_a
    assert Notification.objects.filter(recipient=org.rep_a, kind="kudos").exists()

    elsewhere = client_for(org.sup_a).post(
        "/recognition/",
        {
            "action": "kudos",
            "recipient": org.rep_a.pk,
            "message": "Again",
            "next": "https://evil.example/",
        },
    )
    assert elsewhere["Location"] == "/recognition/"


def test_only_the_latest_kudos_are_shown(org, client_for):
    for number in range(12):
        Kudos.objects.create(sender=org.rep_b, recipient=org.rep_a, message=f"kudos #{number:02}")

    html = page(client_for(org.rep_a), org.rep_a)
    shown = [number for number in range(12) if f"kudos #{number:02}" in html]
    assert shown == list(range(2, 12))


def test_messages_are_escaped(org, client_for):
    Kudos.objects.create(sender=org.rep_b, recipient=org.rep_a, message="<script>alert(1)</script>")
    Award.objects.create(user=org.rep_a, kind=AwardKind.TEAMWORK, title="<b>bold</b>")

    html = page(client_for(org.rep_a), org.rep_a)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html


def test_person_page_query_count_does_not_grow_with_kudos(org, client_for):
    browser = client_for(org.sup_a)
    senders = [org.rep_b, org.rep_north, org.sup_b, org.lead_a1]

    def add(count):
        for number in range(count):
            sender = senders[number % len(senders)]
            Kudos.objects.create(sender=sender, recipient=org.rep_a, message=f"k{number}")
            Award.objects.create(
                user=org.rep_a, kind=AwardKind.TEAMWORK, title=f"a{number}", granted_by=sender
            )

    assert_constant_queries(add, lambda: browser.get(f"/people/{org.rep_a.pk}/"))
