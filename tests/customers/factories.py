"""Factories for customer records; accounts and contacts go through model save so their
search keys (normalized name, pinyin, phone digits) are filled like in production."""

import factory
from django.utils import timezone

from customers.models import (
    Account,
    Contact,
    FollowUp,
    Industry,
    Interaction,
    LeadScoringRule,
    Region,
    Tag,
)
from tests.factories import RepFactory


class IndustryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Industry
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"industry-{n}")
    name = factory.Sequence(lambda n: f"Industry {n}")
    name_zh = factory.Sequence(lambda n: f"行业{n}")


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"region-{n}")
    name = factory.Sequence(lambda n: f"Region {n}")
    name_zh = factory.Sequence(lambda n: f"地区{n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tag-{n}")
    colour = "#336699"


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Company {n} Trading")
    owner = factory.SubFactory(RepFactory)
    pool_team = factory.LazyAttribute(lambda o: o.owner.team if o.owner else None)
    status = Account.Status.PROSPECT
    source = Account.Source.MANUAL

    @factory.post_generation
    def tags(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.tags.set(extracted)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")
    email = factory.Sequence(lambda n: f"contact{n}@example.org")
    mobile = factory.Sequence(lambda n: f"139{n:08d}")


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    account = factory.SubFactory(AccountFactory)
    logged_by = factory.LazyAttribute(lambda o: o.account.owner)
    kind = Interaction.Kind.CALL
    occurred_at = factory.LazyFunction(timezone.now)
    subject = factory.Sequence(lambda n: f"Call {n}")


class FollowUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUp

    account = factory.SubFactory(AccountFactory)
    assignee = factory.LazyAttribute(lambda o: o.account.owner)
    title = factory.Sequence(lambda n: f"Follow up {n}")
    due_at = factory.LazyFunction(timezone.now)


class LeadScoringRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadScoringRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    field = LeadScoringRule.Field.SIZE_BAND
    operator = LeadScoringRule.Operator.GTE
    value = "200"
    points = 10
