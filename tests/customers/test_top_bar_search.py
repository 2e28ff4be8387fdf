import pytest
from django.urls import reverse

from customers.services import account_create
from tests.factories import RepFactory

pytestmark = pytest.mark.django_db


def test_top_bar_search_finds_accounts_by_pinyin_initials(client_for):
    rep = RepFactory()
    account_create(by=rep, name="华为技术有限公司", owner=rep)
    home = client_for(rep).get("/").content.decode()
    assert f'action="{reverse("customers:account_list")}"' in home

    results = client_for(rep).get(reverse("customers:account_list"), {"q": "hwjs"})
    assert "华为技术有限公司" in results.content.decode()
