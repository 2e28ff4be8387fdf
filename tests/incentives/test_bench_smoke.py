"""The incentives benchmark's set-up at a tiny scale: every bench rep gets the plan and a
target, and the bulk statements run gives each the statement computing them one by one
gives. (The benchmark itself runs on PostgreSQL only: python -m bench.run_incentives.)"""

import pytest
from django.utils import timezone

from bench.customers import Sizes as CustomerSizes
from bench.org import generate_org
from bench.pipeline import Sizes, generate_pipeline
from bench.run_incentives import last_full_quarter, prepare
from incentives import selectors, services
from incentives.models import Statement
from teams.models import Role, User

pytestmark = pytest.mark.django_db


def test_bench_statements_match_one_by_one():
    org = generate_org(regions=1, teams_per_region=2, reps_per_team=3)
    generate_pipeline(
        sizes=Sizes(deals=400),
        customer_sizes=CustomerSizes(accounts=60, contacts=80, interactions=100),
        org=org,
        log=lambda line: None,
    )
    reps = list(User.objects.filter(role=Role.REP, username__startswith="bench_rep"))
    quarter = last_full_quarter(timezone.localdate())
    prepare(reps, quarter)
    prepare(reps, quarter)  # a rerun adds nothing
    plan = selectors.plan_for(reps[0], on=quarter[0])
    assert plan is not None and all(selectors.plan_for(rep, on=quarter[0]) == plan for rep in reps)

    made = services.statements_compute_many(
        users=reps, period=quarter, plans={rep.pk: plan for rep in reps}
    )

    assert made == len(reps) == 6
    bulk = dict(Statement.objects.values_list("user_id", "total"))
    assert any(bulk.values())
    for rep in reps:
        assert services.statement_compute(user=rep, period=quarter).total == bulk[rep.pk]
