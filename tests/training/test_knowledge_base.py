"""The knowledge base: search by words in Chinese and English (pages and API), drafts seen
only by their author and the author's managers, and sharing a won or lost deal as a case."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from pipeline.models import Deal
from tests.pipeline.factories import DealFactory
from tests.training.factories import ArticleFactory
from training import services
from training.models import Article

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles(org):
    return {
        "huawei": ArticleFactory(
            author=org.rep_a,
            title="大客户复盘",
            body="与华为供应链团队的谈判，先确认数据安全要求。",
        ),
        "price": ArticleFactory(
            author=org.rep_b,
            kind=Article.Kind.COMPETITOR,
            title="Battle card",
            body="The rival wins on Price and loses on support.",
            tags="pricing, rival",
        ),
        "draft": ArticleFactory(
            author=org.rep_b, title="Draft on 华为", body="Unfinished", published=False
        ),
    }


def search(client, query):
    data = client.get("/api/v1/articles/", {"search": query}).json()
    return {row["title"] for row in data["results"]}


def test_search_finds_chinese_and_english_words(org, articles, token_client):
    client = token_client(org.rep_a)
    assert search(client, "华为") == {"大客户复盘"}  # inside a Chinese sentence
    assert search(client, "数据安全") == {"大客户复盘"}
    assert search(client, "price support") == {"Battle card"}  # every word, any case
    assert search(client, "rival") == {"Battle card"}  # a tag
    assert search(client, "price 华为") == set()
    assert search(client, "") == {"大客户复盘", "Battle card"}


def test_drafts_are_seen_by_their_author_and_the_authors_managers(org, articles, token_client):
    assert "Draft on 华为" in search(token_client(org.rep_b), "华为")
    assert "Draft on 华为" in search(token_client(org.sup_b), "华为")
    assert "Draft on 华为" not in search(token_client(org.rep_a), "华为")
    draft = articles["draft"]
    assert token_client(org.rep_a).get(f"/api/v1/articles/{draft.pk}/").status_code == 404
    assert (
        token_client(org.sup_a)
        .patch(f"/api/v1/articles/{draft.pk}/", {"title": "Mine now"})
        .status_code
        == 404
    )


def test_the_search_page(org, articles, client_for):
    page = client_for(org.rep_a).get("/knowledge/", {"search": "华为"})
    assert page.status_code == 200
    assert "大客户复盘" in page.content.decode() and "Battle card" not in page.content.decode()
    assert client_for(org.rep_a).get(f"/knowledge/{articles['draft'].pk}/").status_code == 404


def test_writing_articles_through_the_api(org, token_client):
    client = token_client(org.rep_a)
    response = client.post(
        "/api/v1/articles/",
        {"kind": "product", "title": "Pricing guide", "body": "Bands", "published": True},
    )
    assert response.status_code == 201
    article = Article.objects.get(pk=response.json()["id"])
    assert article.author == org.rep_a and article.published_at is not None
    bad = client.post("/api/v1/articles/", {"kind": "gossip", "title": "", "body": "x"})
    assert bad.status_code == 400 and {"kind", "title"} <= set(bad.json())
    foreign = DealFactory(owner=org.rep_b)
    refused = client.post(
        "/api/v1/articles/", {"kind": "product", "title": "t", "body": "b", "deal": foreign.pk}
    )
    assert refused.status_code == 400 and "deal" in refused.json()
    assert Article.objects.count() == 1
    assert token_client(org.rep_b).delete(f"/api/v1/articles/{article.pk}/").status_code == 403


def test_sharing_a_deal_as_a_case(org, client_for):
    open_deal = DealFactory(owner=org.rep_a)
    with pytest.raises(ValidationError):
        services.article_from_deal(by=org.rep_a, deal=open_deal)
    lost = DealFactory(owner=org.rep_a, name="Acme rollout")
    Deal.objects.filter(pk=lost.pk).update(
        status=Deal.Status.LOST, lost_reason="price", closed_at=timezone.localdate()
    )
    response = client_for(org.rep_a).post(f"/knowledge/from-deal/{lost.pk}/")
    article = Article.objects.get(deal=lost)
    assert response.status_code == 302 and response["Location"].endswith(
        f"/knowledge/{article.pk}/edit/"
    )
    assert article.kind == Article.Kind.LOST_DEAL and not article.published
    assert "Acme rollout" in article.title and article.author == org.rep_a
    # Someone who cannot see the deal cannot share it.
    assert client_for(org.rep_b).post(f"/knowledge/from-deal/{lost.pk}/").status_code == 404
    page = client_for(org.rep_a).get(f"/deals/{lost.pk}/")
    assert f"/knowledge/from-deal/{lost.pk}/" in page.content.decode()
