"""360 feedback: who may be asked, answering once, the anonymity threshold for peers and
subordinates, and the customer's signed no-login link."""

import datetime as dt

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError

from performance import selectors, services
from performance.models import RaterKind, ReviewFeedback
from tests.customers.factories import AccountFactory, ContactFactory
from tests.factories import RepFactory
from tests.performance.reviews import all_levels, open_cycle
from tests.utils import assert_constant_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(org):
    made = open_cycle(org.east_mgr, org.east_a)
    return made.reviews.get(reviewee=org.sup_a)


def peers(org, count):
    return [RepFactory(team=org.east) for _n in range(count)]


def ask_and_answer(org, review, raters, kind=RaterKind.PEER, level=4):
    for n, rater in enumerate(raters):
        feedback = services.feedback_invite(
            by=org.east_mgr, review=review, rater_kind=kind, rater=rater
        )
        answers = all_levels(review.cycle, level + (n % 2))
        services.feedback_answer(
            by=rater, feedback=feedback, answers=answers, comment=f"peer-note-{n}"
        )


def group(review, kind):
    summary = selectors.feedback_summary(review)
    return next(g for g in summary["groups"] if g["kind"] == kind)


def test_peer_answers_stay_hidden_until_three_have_answered(org, review):
    raters = peers(org, 3)
    ask_and_answer(org, review, raters[:2])
    peer = group(review, RaterKind.PEER)
    assert peer["answered"] == 2 and peer["shown"] is False
    assert peer["averages"] == [] and peer["comments"] == [] and peer["answers"] == []
    ask_and_answer(org, review, raters[2:])
    peer = group(review, RaterKind.PEER)
    assert peer["shown"] is True
    # Levels 4, 5, 4 on every criterion: 4.33 each; comments unattributed.
    assert {average for _label, average in peer["averages"]} == {selectors.Decimal("4.33")}
    assert peer["comments"] == ["peer-note-0", "peer-note-0", "peer-note-1"]
    assert peer["answers"] == []


def test_subordinates_are_counted_apart_from_peers(org, review):
    ask_and_answer(org, review, peers(org, 2))
    ask_and_answer(org, review, [org.rep_a, org.lead_a1], kind=RaterKind.SUBORDINATE)
    assert group(review, RaterKind.PEER)["shown"] is False
    assert group(review, RaterKind.SUBORDINATE)["shown"] is False
    ask_and_answer(org, review, [org.rep_a1], kind=RaterKind.SUBORDINATE)
    assert group(review, RaterKind.SUBORDINATE)["shown"] is True
    assert group(review, RaterKind.PEER)["shown"] is False


def test_the_review_page_and_api_never_show_single_peer_answers(
    org, review, client_for, token_client
):
    raters = peers(org, 2)
    ask_and_answer(org, review, raters)
    page = client_for(org.east_mgr).get(f"/reviews/{review.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    content = page.content.decode()
    assert "feedback-hidden" in content and "feedback-aggregate" not in content
    assert "peer-note" not in content
    api = token_client(org.east_mgr)
    rows = api.get("/api/v1/review-feedback/").json()["results"]
    assert rows == []
    detail = api.get(f"/api/v1/reviews/{review.pk}/").json()
    peer = detail["feedback_summary"]["groups"][0]
    assert peer["shown"] is False and peer["averages"] == [] and peer["comments"] == []
    # The rater reads their own answer.
    own = token_client(raters[0]).get("/api/v1/review-feedback/").json()["results"]
    assert [row["comment"] for row in own] == ["peer-note-0"]
    ask_and_answer(org, review, peers(org, 1))
    content = client_for(org.east_mgr).get(f"/reviews/{review.pk}/").content.decode()
    assert "feedback-aggregate" in content


def test_who_can_be_asked(org, review):
    invite = services.feedback_invite
    with pytest.raises(ValidationError):  # self must be the reviewee
        invite(by=org.east_mgr, review=review, rater_kind=RaterKind.SELF, rater=org.rep_a)
    with pytest.raises(ValidationError):  # the reviewee is asked as "self"
        invite(by=org.east_mgr, review=review, rater_kind=RaterKind.PEER, rater=org.sup_a)
    with pytest.raises(ValidationError):  # not someone the reviewee manages
        invite(by=org.east_mgr, review=review, rater_kind=RaterKind.SUBORDINATE, rater=org.rep_b)
    with pytest.raises(ValidationError):  # outside the inviter's teams
        invite(by=org.east_mgr, review=review, rater_kind=RaterKind.PEER, rater=org.rep_north)
    with pytest.raises(ValidationError):
        invite(by=org.east_mgr, review=review, rater_kind=RaterKind.CUSTOMER)
    with pytest.raises(PermissionDenied):  # the reviewee does not pick their raters
        invite(by=org.sup_a, review=review, rater_kind=RaterKind.PEER, rater=org.rep_b)
    mine = invite(by=org.east_mgr, review=review, rater_kind=RaterKind.SELF)
    assert mine.rater == org.sup_a
    with pytest.raises(ValidationError):  # asked twice
        invite(by=org.east_mgr, review=review, rater_kind=RaterKind.SELF)
    assert ReviewFeedback.objects.count() == 1


def test_answers_are_given_once_by_the_rater_with_every_criterion(org, review):
    feedback = services.feedback_invite(
        by=org.east_mgr, review=review, rater_kind=RaterKind.PEER, rater=org.rep_b
    )
    with pytest.raises(PermissionDenied):
        services.feedback_answer(
            by=org.rep_a, feedback=feedback, answers=all_levels(review.cycle, 3)
        )
    with pytest.raises(ValidationError) as error:
        services.feedback_answer(by=org.rep_b, feedback=feedback, answers={"teamwork": 3})
    assert "answers" in error.value.message_dict
    services.feedback_answer(by=org.rep_b, feedback=feedback, answers=all_levels(review.cycle, 3))
    with pytest.raises(ValidationError):
        services.feedback_answer(
            by=org.rep_b, feedback=feedback, answers=all_levels(review.cycle, 5)
        )
    feedback.refresh_from_db()
    assert set(feedback.answers.values()) == {3}


@pytest.fixture
def customer_feedback(org, review):
    contact = ContactFactory(account=AccountFactory(owner=org.sup_a), name="Ms Wang")
    return services.feedback_invite(
        by=org.east_mgr, review=review, rater_kind=RaterKind.CUSTOMER, contact=contact
    )


def answer_data(cycle, level=5):
    data = {f"score_{kind}": str(level) for kind in all_levels(cycle, level)}
    data["comment"] = "Very responsive"
    return data


def test_a_customer_answers_through_the_signed_link_once(org, review, customer_feedback, client):
    path = services.feedback_link(customer_feedback).split("testserver")[-1]
    path = path[path.index("/feedback/") :]
    page = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "Ms Wang" in page.content.decode()
    bad = client.post(path, {"score_teamwork": "9"}, HTTP_ACCEPT_LANGUAGE="en")
    assert bad.status_code == 400
    customer_feedback.refresh_from_db()
    assert customer_feedback.answered_at is None
    done = client.post(path, answer_data(review.cycle), HTTP_ACCEPT_LANGUAGE="en")
    assert done.status_code == 200 and "feedback-done" in done.content.decode()
    customer_feedback.refresh_from_db()
    assert customer_feedback.answered_at and customer_feedback.comment == "Very responsive"
    again = client.post(path, answer_data(review.cycle, 1))
    assert again.status_code == 410
    customer_feedback.refresh_from_db()
    assert set(customer_feedback.answers.values()) == {5}
    # The answers feed the satisfaction KPI.
    values = selectors.review_kpi_values(cycle=review.cycle, reviews=[review])[review.pk]
    assert {line["kind"]: line["value"] for line in values}["satisfaction"] == "5.00"


def test_a_tampered_or_foreign_token_is_not_found(customer_feedback, client):
    token = services.feedback_token(customer_feedback)
    assert client.get(f"/feedback/customer/{token}x/").status_code == 404
    assert client.get(f"/feedback/customer/{token[:-3]}abc/").status_code == 404
    other_salt = signing.dumps(customer_feedback.pk, salt="something-else")
    assert client.get(f"/feedback/customer/{other_salt}/").status_code == 404


def test_a_colleagues_request_has_no_customer_link(org, review, client):
    colleague = services.feedback_invite(
        by=org.east_mgr, review=review, rater_kind=RaterKind.PEER, rater=org.rep_b
    )
    token = services.feedback_token(colleague)
    assert client.get(f"/feedback/customer/{token}/").status_code == 404


def test_an_expired_link_is_refused(customer_feedback, client, monkeypatch):
    token = services.feedback_token(customer_feedback)
    monkeypatch.setattr(services, "FEEDBACK_LINK_MAX_AGE", dt.timedelta(seconds=-1))
    response = client.post(
        f"/feedback/customer/{token}/", answer_data(customer_feedback.review.cycle)
    )
    assert response.status_code == 410
    assert "feedback-expired" in response.content.decode()
    customer_feedback.refresh_from_db()
    assert customer_feedback.answered_at is None


def test_colleagues_answer_on_their_feedback_page(org, review, client_for):
    feedback = services.feedback_invite(
        by=org.east_mgr, review=review, rater_kind=RaterKind.PEER, rater=org.rep_b
    )
    assert client_for(org.rep_a).get(f"/feedback/{feedback.pk}/").status_code == 404
    browser = client_for(org.rep_b)
    listing = browser.get("/feedback/").content.decode()
    assert f"/feedback/{feedback.pk}/" in listing
    assert browser.post(f"/feedback/{feedback.pk}/", {"score_teamwork": "2"}).status_code == 400
    response = browser.post(f"/feedback/{feedback.pk}/", answer_data(review.cycle, 2))
    assert response.status_code == 302
    feedback.refresh_from_db()
    assert feedback.answered_at and set(feedback.answers.values()) == {2}


@pytest.mark.parametrize("path", ["/feedback/", "/api/v1/review-feedback/"])
def test_feedback_lists_cost_the_same_queries_for_5_and_50(org, client_for, token_client, path):
    from performance.models import Review, ReviewCycle

    counter = iter(range(1000))

    def add(count):
        for _n in range(count):
            n = next(counter)
            cycle = ReviewCycle.objects.create(
                name=f"M{n}",
                kind="monthly",
                start=dt.date(2020, 1, 1) + dt.timedelta(days=n),
                end=dt.date(2020, 1, 1) + dt.timedelta(days=n),
                team=org.east_a,
            )
            review = Review.objects.create(cycle=cycle, reviewee=org.rep_a, reviewer=org.sup_a)
            ReviewFeedback.objects.create(
                review=review, rater_kind=RaterKind.SELF, rater=org.rep_a, invited_by=org.sup_a
            )
            ReviewFeedback.objects.create(
                review=review, rater_kind=RaterKind.CUSTOMER, contact=contact, invited_by=org.sup_a
            )

    contact = ContactFactory(account=AccountFactory(owner=org.rep_a))
    # A manager above the reviewer reads the customer requests with their links.
    client = token_client(org.east_mgr) if path.startswith("/api/") else client_for(org.rep_a)
    assert_constant_queries(add, lambda: client.get(path))
    if path.startswith("/api/"):
        rows = client.get(path).json()["results"]
        assert {row["link"] is not None for row in rows if row["rater_kind"] == "customer"} == {
            True
        }
