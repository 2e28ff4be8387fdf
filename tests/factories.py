"""Shared factories. Teams and users are created through the services, so the team tree's
materialized path and every rule a service applies hold for test data too."""

import factory

from teams import services
from teams.models import LadderLevel, Notification, Role, Team, User

PASSWORD = "Quiet-Harbour-2718"


class LadderLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LadderLevel
        django_get_or_create = ("code",)

    rank = factory.Sequence(lambda n: n + 1)
    code = factory.Sequence(lambda n: f"level-{n}")
    name = factory.Sequence(lambda n: f"Level {n}")
    name_zh = factory.Sequence(lambda n: f"级别{n}")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    parent = None
    manager = None
    region = ""

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.team_create(by=None, **kwargs)


class UserFactory(factory.django.DjangoModelFactory):
    """A user; `manages=<team>` also makes them that team's manager."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = PASSWORD
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = factory.Sequence(lambda n: f"Last{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    team = None
    role = Role.REP
    ladder_level = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.user_create(by=None, **kwargs)

    @factory.post_generation
    def manages(obj, create, extracted, **kwargs):
        if create and extracted is not None:
            services.team_set_manager(by=None, team=extracted, manager=obj)


class RepFactory(UserFactory):
    role = Role.REP


class ManagerFactory(UserFactory):
    """A manager placed in a team and managing it."""

    role = Role.MANAGER
    team = factory.SubFactory(TeamFactory)

    @factory.post_generation
    def manages(obj, create, extracted, **kwargs):
        if create:
            services.team_set_manager(by=None, team=extracted or obj.team, manager=obj)


class AdminFactory(UserFactory):
    role = Role.ADMIN


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    kind = "general"
    title = factory.Sequence(lambda n: f"Notification {n}")
    body = "Something happened."
    link = ""
