"""Pages in Simplified Chinese and English, and the language switch remembered per user."""

import re

import pytest
from django.utils import translation

from teams.models import User

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")


def chinese(msgid: str) -> str:
    """The zh_Hans translation of a UI label, as the catalogue in locale/ has it."""
    with translation.override("zh-hans"):
        text = translation.gettext(msgid)
    assert CJK.search(text), f"msgid {msgid!r} has no Chinese translation in locale/zh_Hans"
    return text


def test_a_page_renders_in_chinese_for_a_user_who_chose_it(org, client):
    org.sup_a.preferred_language = "zh-hans"
    org.sup_a.save()
    client.force_login(org.sup_a)
    content = client.get("/org/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="zh-hans">' in content
    # Depends on the catalogue entry msgid "Org chart" -> msgstr "组织架构".
    assert "组织架构" in content
    assert chinese("Org chart") in content
    assert chinese("People") in content
    assert "Org chart" not in content


def test_a_page_renders_in_english_for_a_user_who_chose_it(org, client):
    org.sup_a.preferred_language = "en"
    org.sup_a.save()
    client.force_login(org.sup_a)
    content = client.get("/org/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<html lang="en">' in content
    assert "Org chart" in content
    assert chinese("Org chart") not in content


def test_ladder_levels_show_their_chinese_name(org, client):
    org.rep_a.preferred_language = "zh-hans"
    org.rep_a.save()
    client.force_login(org.rep_a)
    assert "高级销售" in client.get("/").content.decode()  # name_zh of the senior level


def test_the_language_switch_is_remembered_on_the_account(org, client):
    client.force_login(org.rep_a)
    response = client.post("/language/", {"language": "zh-hans", "next": "/org/"})
    assert response.status_code == 302 and response["Location"] == "/org/"
    assert User.objects.get(pk=org.rep_a.pk).preferred_language == "zh-hans"
    assert chinese("Org chart") in client.get("/org/").content.decode()

    client.post("/language/", {"language": "en"})
    assert User.objects.get(pk=org.rep_a.pk).preferred_language == "en"
    # Remembered on another device too: a fresh session follows the account.
    from django.test import Client

    elsewhere = Client()
    elsewhere.force_login(User.objects.get(pk=org.rep_a.pk))
    assert "Org chart" in elsewhere.get("/org/").content.decode()


def test_an_anonymous_switch_sets_the_cookie(client):
    response = client.post("/language/", {"language": "en", "next": "/login/"})
    assert response.cookies["django_language"].value == "en"
    assert '<html lang="en">' in client.get("/login/").content.decode()


def test_an_unknown_language_is_ignored(org, client):
    client.force_login(org.rep_a)
    response = client.post("/language/", {"language": "xx"})
    assert response.status_code == 302
    assert User.objects.get(pk=org.rep_a.pk).preferred_language == ""


def test_an_anonymous_visitor_gets_the_installation_language(client, settings):
    settings.LANGUAGE_CODE = "zh-hans"  # the default installation language
    content = client.get("/login/").content.decode()
    assert '<html lang="zh-hans">' in content
    assert chinese("Sign in") in content
    content = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in content and "Sign in" in content
