"""Review cycles and reviews through the services: opening, KPIs filled from the data against
a hand-computed scenario, the weighted overall score, freezing, and who may do what."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from performance import selectors, services
from performance.models import Expense, Review, ReviewCycle
from teams.models import Notification
from tests.performance.factories import interaction, local, target, won_deal
from tests.performance.reviews import (
    AFTER_Q1,
    Q1,
    all_levels,
    cycle,
    expense,
    lost_deal,
    open_cycle,
)

pytestmark = pytest.mark.django_db


def test_opening_creates_a_review_per_person_reviewed_by_their_manager_once(org):
    made = cycle(org.east_mgr, org.east_a)
    assert made.status == ReviewCycle.Status.DRAFT
    assert services.cycle_open(by=org.east_mgr, cycle=made) == 6
    reviewers = {
        review.reviewee.username: review.reviewer.username
        for review in made.reviews.select_related("reviewee", "reviewer")
    }
    assert reviewers == {
        "sup_a": "east_mgr",
        "rep_a": "sup_a",
        "lead_a1": "sup_a",
        "rep_a1": "lead_a1",
        "lead_a1x": "lead_a1",
        "rep_a1x": "lead_a1x",
    }
    # Opening again creates nothing new, but a newcomer gets their review.
    assert services.cycle_open(by=org.east_mgr, cycle=made) == 0
    from tests.factories import RepFactory

    newcomer = RepFactory(username="newcomer", team=org.east_a1)
    assert services.cycle_open(by=org.east_mgr, cycle=made) == 1
    assert made.reviews.get(reviewee=newcomer).reviewer == org.lead_a1
    assert Notification.objects.filter(recipient=org.sup_a, kind="review").exists()


def test_only_a_manager_of_the_team_runs_its_cycle(org):
    with pytest.raises(PermissionDenied):
        cycle(org.rep_a, org.east_a)
    with pytest.raises(PermissionDenied):
        cycle(org.north_mgr, org.east_a)
    made = cycle(org.admin, org.east_a)
    with pytest.raises(PermissionDenied):
        services.cycle_open(by=org.sup_b, cycle=made)


@pytest.mark.parametrize(
    ("kpis", "criteria", "field"),
    [
        (
            [{"kind": "attainment", "weight": 50, "target": 100}],
            [{"kind": "teamwork", "weight": 40}],
            "weights",
        ),
        (
            [
                {"kind": "attainment", "weight": 50, "target": 100},
                {"kind": "attainment", "weight": 20, "target": 1},
            ],
            [{"kind": "teamwork", "weight": 30}],
            "kpis",
        ),
        (
            [{"kind": "bogus", "weight": 60, "target": 1}],
            [{"kind": "teamwork", "weight": 40}],
            "kpis",
        ),
        ([{"kind": "attainment", "weight": 100, "target": 100}], [], "criteria"),
        (
            [{"kind": "win_rate", "weight": 60, "target": -1}],
            [{"kind": "teamwork", "weight": 40}],
            "kpis",
        ),
    ],
)
def test_a_template_whose_weights_do_not_make_100_is_refused(org, kpis, criteria, field):
    with pytest.raises(ValidationError) as error:
        cycle(org.east_mgr, org.east_a, kpis=kpis, criteria=criteria)
    assert field in error.value.message_dict
    assert not ReviewCycle.objects.exists()


def test_the_default_template_makes_100_with_level_descriptions(org):
    made = cycle(org.east_mgr, org.east_a)
    weights = [k.weight for k in made.kpis.all()] + [c.weight for c in made.criteria.all()]
    assert sum(weights) == 100
    assert all(len(c.levels) == 5 for c in made.criteria.all())


def scenario(org):
    """rep_a in 2026 Q1, hand-computed:
    revenue 150,000 from two won deals (one on a new customer) against a 200,000 target:
    attainment 75%; 2 won, 2 lost: win rate 50%; average deal 75,000; 1 new customer;
    6 interactions against their own target of 12; approved expenses 9,000: ratio 6%."""
    rep = org.rep_a
    target(
        org.sup_a, user=rep, period_type="quarter", start=Q1[0], end=Q1[1], value=Decimal("200000")
    )
    target(
        org.sup_a,
        user=rep,
        period_type="quarter",
        start=Q1[0],
        end=Q1[1],
        metric="interactions",
        value=Decimal("12"),
    )
    won_deal(rep, "100000", dt.date(2026, 1, 15))
    old_customer = won_deal(rep, "40000", dt.date(2025, 12, 20)).account
    won_deal(rep, "50000", dt.date(2026, 2, 10), account=old_customer)
    won_deal(rep, "30000", dt.date(2026, 4, 2))  # after the period
    lost_deal(rep, dt.date(2026, 3, 1))
    lost_deal(rep, dt.date(2026, 3, 31))
    for day in range(6):
        interaction(rep, local(dt.date(2026, 2, 1) + dt.timedelta(days=day)))
    interaction(rep, local(dt.date(2026, 4, 1), hour=0))  # 1 April in Shanghai: outside
    expense(rep, "5000", dt.date(2026, 1, 20))
    expense(rep, "4000", dt.date(2026, 3, 31))
    expense(rep, "1000", dt.date(2026, 2, 2), status=Expense.Status.SUBMITTED)
    expense(rep, "800", dt.date(2026, 2, 3), status=Expense.Status.REJECTED)
    expense(rep, "500", dt.date(2026, 4, 1))
    # Someone else's figures never count for rep_a.
    won_deal(org.rep_b, "999999", dt.date(2026, 2, 1))


EXPECTED = {
    "attainment": ("75.00", "100.00", "75.00"),
    "new_customers": ("1.00", "3.00", "33.33"),
    "win_rate": ("50.00", "30.00", "100"),
    "average_deal": ("75000.00", "100000.00", "75.00"),
    "interactions": ("6.00", "12.00", "50.00"),
    "satisfaction": (None, "4.00", None),
    "expense_ratio": ("6.00", "5.00", "83.33"),
}


def test_kpis_are_filled_from_the_data_of_the_period(org):
    scenario(org)
    made = open_cycle(org.east_mgr, org.east_a)
    assert services.cycle_fill_kpis(by=org.east_mgr, cycle=made, today=AFTER_Q1) == 6
    review = made.reviews.get(reviewee=org.rep_a)
    lines = {
        line["kind"]: (line["value"], line["target"], line["score"]) for line in review.kpi_results
    }
    assert {
        kind: (v, t, s and str(Decimal(s).normalize())) for kind, (v, t, s) in lines.items()
    } == {kind: (v, t, s and str(Decimal(s).normalize())) for kind, (v, t, s) in EXPECTED.items()}
    # Nobody else in the cycle had anything: no revenue target, no closed deal.
    other = made.reviews.get(reviewee=org.rep_a1)
    values = {line["kind"]: line["value"] for line in other.kpi_results}
    assert values["attainment"] is None and values["win_rate"] is None
    assert values["new_customers"] == "0.00"


def test_the_overall_score_is_the_weighted_sum_over_the_scored_lines(org):
    scenario(org)
    made = open_cycle(org.east_mgr, org.east_a)
    review = made.reviews.get(reviewee=org.rep_a)
    services.review_submit(
        by=org.sup_a,
        review=review,
        criteria_scores=all_levels(made, 4),
        strengths="Closes well",
        improvements="Log calls",
        today=AFTER_Q1,
    )
    review.refresh_from_db()
    # 30×75 + 10×33.33 + 10×100 + 5×75 + 5×50 + 5×83.33 + 30×80 = 7024.95, over the 95% of
    # weight that has a score (satisfaction has no data).
    assert review.overall_score == Decimal("73.95")
    assert review.status == Review.Status.SUBMITTED and review.submitted_at
    breakdown = selectors.review_breakdown(review)
    assert breakdown["overall"] == Decimal("73.95")
    assert breakdown["scored_weight"] == 95 and breakdown["unscored_weight"] == 5
    by_kind = {line["kind"]: line for line in breakdown["lines"]}
    assert by_kind["teamwork"]["score"] == Decimal("80")
    assert by_kind["attainment"]["contribution"] == Decimal("23.68")  # 30 × 75 / 95
    assert by_kind["satisfaction"]["contribution"] is None
    assert Notification.objects.filter(recipient=org.rep_a, kind="review").exists()


def test_kpi_values_stay_frozen_once_submitted_and_once_the_cycle_closes(org):
    scenario(org)
    made = open_cycle(org.east_mgr, org.east_a)
    submitted = made.reviews.get(reviewee=org.rep_a)
    services.review_submit(
        by=org.sup_a, review=submitted, criteria_scores=all_levels(made, 3), today=AFTER_Q1
    )
    draft = made.reviews.get(reviewee=org.rep_a1)
    won_deal(org.rep_a, "50000", dt.date(2026, 3, 3))
    won_deal(org.rep_a1, "10000", dt.date(2026, 3, 3))
    services.cycle_close(by=org.east_mgr, cycle=made, today=AFTER_Q1)
    submitted.refresh_from_db()
    draft.refresh_from_db()
    assert {line["kind"]: line["value"] for line in submitted.kpi_results}[
        "average_deal"
    ] == "75000.00"
    assert {line["kind"]: line["value"] for line in draft.kpi_results}["average_deal"] == "10000.00"
    frozen = draft.kpi_results
    won_deal(org.rep_a1, "90000", dt.date(2026, 3, 4))
    with pytest.raises(ValidationError):
        services.cycle_fill_kpis(by=org.east_mgr, cycle=made, today=AFTER_Q1)
    # Submitting after the close keeps the values frozen at the close.
    services.review_submit(
        by=org.lead_a1, review=draft, criteria_scores=all_levels(made, 3), today=AFTER_Q1
    )
    draft.refresh_from_db()
    assert draft.kpi_results == frozen


def test_kpis_wait_for_the_end_of_the_period(org):
    made = open_cycle(org.east_mgr, org.east_a)
    review = made.reviews.get(reviewee=org.rep_a)
    with pytest.raises(ValidationError):
        services.cycle_fill_kpis(by=org.east_mgr, cycle=made, today=Q1[1])
    with pytest.raises(ValidationError):
        services.cycle_close(by=org.east_mgr, cycle=made, today=Q1[1])
    with pytest.raises(ValidationError):
        services.review_submit(
            by=org.sup_a, review=review, criteria_scores=all_levels(made, 3), today=Q1[1]
        )


@pytest.mark.parametrize(
    "scores",
    [{}, {"teamwork": 3}, "all-but-one", {"teamwork": 6}, {"teamwork": 0}, {"bogus": 3}],
)
def test_submitting_needs_every_criterion_scored_from_1_to_5(org, scores):
    made = open_cycle(org.east_mgr, org.east_a)
    review = made.reviews.get(reviewee=org.rep_a)
    if scores == "all-but-one":
        scores = all_levels(made, 3)
        scores.popitem()
    elif "teamwork" in scores and scores["teamwork"] in (0, 6):
        scores = {**all_levels(made, 3), **scores}
    with pytest.raises(ValidationError) as error:
        services.review_submit(by=org.sup_a, review=review, criteria_scores=scores, today=AFTER_Q1)
    assert "criteria_scores" in error.value.message_dict
    review.refresh_from_db()
    assert review.status == Review.Status.DRAFT and review.overall_score is None
    assert review.kpi_results == []


def test_who_may_score_and_who_acknowledges(org):
    made = open_cycle(org.east_mgr, org.east_a)
    review = made.reviews.get(reviewee=org.rep_a1)
    scores = all_levels(made, 5)
    for outsider in (org.rep_a1, org.rep_a, org.sup_b, org.north_mgr):
        with pytest.raises(PermissionDenied):
            services.review_submit(
                by=outsider, review=review, criteria_scores=scores, today=AFTER_Q1
            )
    # A manager above the reviewer may act too.
    services.review_save(by=org.sup_a, review=review, criteria_scores={"teamwork": 4})
    services.review_submit(by=org.lead_a1, review=review, criteria_scores=scores, today=AFTER_Q1)
    with pytest.raises(ValidationError):
        services.review_save(by=org.lead_a1, review=review, strengths="changed")
    with pytest.raises(PermissionDenied):
        services.review_acknowledge(by=org.lead_a1, review=review, comment="me?")
    services.review_acknowledge(by=org.rep_a1, review=review, comment="Agreed.")
    review.refresh_from_db()
    assert review.status == Review.Status.ACKNOWLEDGED
    assert review.reviewee_comment == "Agreed." and review.acknowledged_at
    with pytest.raises(ValidationError):
        services.review_acknowledge(by=org.rep_a1, review=review)


def test_managers_see_their_subtrees_reviews_and_a_rep_only_their_own(org):
    made = open_cycle(org.east_mgr, org.east)

    def seen(user):
        return set(selectors.review_list(viewer=user).values_list("reviewee__username", flat=True))

    assert seen(org.rep_a) == {"rep_a"}
    assert seen(org.lead_a1) == {"lead_a1", "rep_a1", "lead_a1x", "rep_a1x"}
    assert seen(org.north_mgr) == set()
    assert len(seen(org.admin)) == made.reviews.count()
    cycles = lambda user: set(selectors.review_cycle_list(viewer=user).values_list("pk", flat=True))  # noqa: E731
    assert cycles(org.rep_a) == {made.pk}
    assert cycles(org.rep_north) == set()
