"""Notifications: the inbox, the bell, and the email that goes out exactly once."""

import pytest
from django.core import mail

from teams import services
from teams.models import Notification
from tests.factories import NotificationFactory, RepFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(db):
    return RepFactory(email="rep@example.com")


def test_notify_creates_an_inbox_row_and_mails_once_on_commit(
    rep, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification = services.notify(
            recipient=rep, title="Deal won", body="Acme signed.", link="/deals/1/"
        )
        assert mailoutbox == []  # nothing is mailed before the transaction commits
    assert len(callbacks) == 1
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.subject == "Deal won"
    assert message.to == ["rep@example.com"]
    assert "Acme signed." in message.body
    assert message.body.rstrip().endswith("/deals/1/")
    notification.refresh_from_db()
    assert notification.emailed_at is not None
    assert notification.read_at is None
    assert Notification.objects.filter(recipient=rep).count() == 1


def test_a_rolled_back_notification_is_never_mailed(
    rep, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.notify(recipient=rep, title="Draft")
    assert len(callbacks) == 1
    assert mailoutbox == []


def test_sending_twice_mails_once(rep, mailoutbox):
    notification = NotificationFactory(recipient=rep)
    assert services.notification_send_email(notification_id=notification.pk) is True
    assert services.notification_send_email(notification_id=notification.pk) is False
    assert len(mailoutbox) == 1


def test_the_task_running_twice_mails_once(rep, mailoutbox):
    from teams.tasks import send_notification_email

    notification = NotificationFactory(recipient=rep)
    send_notification_email.delay(notification.pk)
    send_notification_email.delay(notification.pk)
    assert len(mailoutbox) == 1


def test_a_failed_send_releases_the_claim_for_a_retry(rep, mailoutbox, monkeypatch):
    notification = NotificationFactory(recipient=rep)

    def down(**kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr(services, "send_mail", down)
    with pytest.raises(OSError):
        services.notification_send_email(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.emailed_at is None

    monkeypatch.undo()
    assert services.notification_send_email(notification_id=notification.pk) is True
    assert len(mailoutbox) == 1


def test_no_mail_for_a_recipient_without_an_address(db, mailoutbox):
    notification = NotificationFactory(recipient=RepFactory(email=""))
    assert services.notification_send_email(notification_id=notification.pk) is False
    assert mailoutbox == []


def test_the_inbox_lists_only_my_notifications(rep, client):
    NotificationFactory(recipient=rep, title="Mine to read")
    NotificationFactory(title="Somebody else's")
    client.force_login(rep)
    response = client.get("/notifications/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Mine to read" in content
    assert "Somebody else&#x27;s" not in content and "Somebody else's" not in content


def test_the_unread_only_filter(rep, client):
    NotificationFactory(recipient=rep, title="Still new")
    read = NotificationFactory(recipient=rep, title="Seen already")
    services.notification_mark_read(user=rep, notification_id=read.pk)
    client.force_login(rep)
    content = client.get("/notifications/?unread=1").content.decode()
    assert "Still new" in content and "Seen already" not in content


def badge(content):
    start = content.index('id="unread-badge"')
    return content[content.index(">", start) + 1 : content.index("</span>", start)].strip()


def test_the_unread_count_shows_in_the_top_bar(rep, client):
    client.force_login(rep)
    assert badge(client.get("/").content.decode()) == ""
    NotificationFactory.create_batch(3, recipient=rep)
    NotificationFactory(title="not mine")
    assert badge(client.get("/").content.decode()) == "3"


def test_mark_read(rep, client):
    first, second = NotificationFactory.create_batch(2, recipient=rep)
    client.force_login(rep)
    response = client.post(f"/notifications/{first.pk}/read/")
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None
    assert badge(client.get("/notifications/").content.decode()) == "1"


def test_mark_read_with_htmx_returns_the_row_and_the_new_count(rep, client):
    first, _second = NotificationFactory.create_batch(2, recipient=rep)
    client.force_login(rep)
    response = client.post(f"/notifications/{first.pk}/read/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    content = response.content.decode()
    assert f'id="notification-{first.pk}"' in content
    assert "unread" not in content.split(">")[0]  # the row is no longer marked unread
    assert 'hx-swap-oob="true"' in content
    assert badge(content) == "1"
    assert "<html" not in content
    first.refresh_from_db()
    assert first.read_at is not None


def test_mark_read_cannot_touch_someone_elses_notification(rep, client):
    other = NotificationFactory(title="not mine")
    client.force_login(rep)
    response = client.post(f"/notifications/{other.pk}/read/")
    assert response.status_code == 404
    response = client.post(f"/notifications/{other.pk}/read/", HTTP_HX_REQUEST="true")
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.read_at is None


def test_mark_all_read(rep, client):
    NotificationFactory.create_batch(3, recipient=rep)
    other = NotificationFactory()
    client.force_login(rep)
    response = client.post("/notifications/read-all/")
    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=rep, read_at__isnull=True).exists()
    other.refresh_from_db()
    assert other.read_at is None


def test_mark_all_read_with_htmx_redirects_the_page(rep, client):
    NotificationFactory.create_batch(2, recipient=rep)
    client.force_login(rep)
    response = client.post("/notifications/read-all/", HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == "/notifications/"
    assert not Notification.objects.filter(recipient=rep, read_at__isnull=True).exists()


def test_the_notifications_api(rep, token_client):
    mine = NotificationFactory.create_batch(2, recipient=rep)
    other = NotificationFactory()
    api = token_client(rep)
    listed = api.get("/api/v1/notifications/").json()
    assert {row["id"] for row in listed["results"]} == {n.pk for n in mine}
    assert api.get(f"/api/v1/notifications/{other.pk}/").status_code == 404
    assert api.post(f"/api/v1/notifications/{other.pk}/read/").status_code == 404
    response = api.post(f"/api/v1/notifications/{mine[0].pk}/read/")
    assert response.status_code == 200 and response.json()["read_at"]
    assert len(api.get("/api/v1/notifications/?unread=1").json()["results"]) == 1
    assert api.post("/api/v1/notifications/read-all/").json() == {"marked": 1}
    other.refresh_from_db()
    assert other.read_at is None


def test_mail_uses_the_configured_backend(rep):
    # pytest-django swaps in the locmem backend; the message lands in django.core.mail.outbox.
    notification = NotificationFactory(recipient=rep, title="Hello")
    services.notification_send_email(notification_id=notification.pk)
    assert [m.subject for m in mail.outbox] == ["Hello"]
