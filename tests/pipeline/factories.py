"""Factories for the pipeline. Deals are created through pipeline.services.deal_create so
their first stage change, stage dates and owner rules exist like in production."""

from decimal import Decimal

import factory

from pipeline import services
from pipeline.models import AssignmentRule, Competitor, Deal, Pipeline, ProductCategory, Stage
from tests.customers.factories import AccountFactory


def default_stages() -> dict[str, Stage]:
    """The stages of the default pipeline (made by the data migration), by code."""
    pipeline = Pipeline.objects.get(is_default=True)
    return {stage.code: stage for stage in pipeline.stages.all()}


class ProductCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductCategory
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"product-{n}")
    name = factory.Sequence(lambda n: f"Product {n}")
    name_zh = factory.Sequence(lambda n: f"产品{n}")


class CompetitorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Competitor
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Rival {n}")


class DealFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deal

    name = factory.Sequence(lambda n: f"Deal {n}")
    account = factory.SubFactory(AccountFactory)
    owner = factory.LazyAttribute(lambda o: o.account.owner)
    amount = Decimal("100000.00")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.deal_create(by=None, **kwargs)


class AssignmentRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssignmentRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    order = factory.Sequence(lambda n: n)
    action = AssignmentRule.Action.USER
