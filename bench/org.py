"""Generates the benchmark company's organisation: a head office, regions, teams and reps,
with bulk inserts (one password hash shared by every generated user)."""

from django.contrib.auth.hashers import make_password
from django.db import transaction

from teams.models import Role, Team, User

PASSWORD = "bench-password"


@transaction.atomic
def generate_org(*, regions: int = 5, teams_per_region: int = 10, reps_per_team: int = 10) -> dict:
    """Returns {"head", "regions": [(team, manager)], "teams": [...], "reps": [...]}. Reuses an
    existing generated org when the head user is already there."""
    head = User.objects.filter(username="bench_head").first()
    if head is not None:
        return _load_org()
    password = make_password(PASSWORD)

    def user(username, team, role):
        return User(
            username=username,
            password=password,
            team=team,
            role=role,
            first_name=username,
            email=f"{username}@bench.example",
        )

    hq = Team.objects.create(name="Bench HQ")
    hq.path, hq.depth = f"/{hq.pk}/", 0
    hq.save(update_fields=["path", "depth"])
    head = saved(user("bench_head", hq, Role.MANAGER))
    hq.manager = head
    hq.save(update_fields=["manager"])

    for r in range(regions):
        region = Team.objects.create(name=f"Region {r + 1}", parent=hq, region=f"R{r + 1}")
        region.path, region.depth = f"{hq.path}{region.pk}/", 1
        manager = saved(user(f"bench_mgr{r + 1}", region, Role.MANAGER))
        region.manager = manager
        region.save(update_fields=["path", "depth", "manager"])
        for t in range(teams_per_region):
            team = Team.objects.create(name=f"Region {r + 1} team {t + 1}", parent=region)
            team.path, team.depth = f"{region.path}{team.pk}/", 2
            supervisor = saved(user(f"bench_sup{r + 1}_{t + 1}", team, Role.SUPERVISOR))
            team.manager = supervisor
            team.save(update_fields=["path", "depth", "manager"])
            User.objects.bulk_create(
                user(f"bench_rep{r + 1}_{t + 1}_{n + 1}", team, Role.REP)
                for n in range(reps_per_team)
            )
    return _load_org()


def saved(user: User) -> User:
    user.save()
    return user


def _load_org() -> dict:
    head = User.objects.get(username="bench_head")
    regions = [
        (team, team.manager)
        for team in Team.objects.filter(parent__manager=head)
        .select_related("manager")
        .order_by("name")
    ]
    reps = list(User.objects.filter(username__startswith="bench_rep").order_by("pk"))
    return {"head": head, "regions": regions, "reps": reps}
