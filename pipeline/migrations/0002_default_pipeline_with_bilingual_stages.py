"""The default sales pipeline with bilingual stages, and the settings row. Re-running leaves
admin edits alone: the pipeline and its stages are matched by code and only created when
missing."""

from django.db import migrations

# code, English, Chinese, win probability, SLA days, forecast category, required fields,
# checklist, won, lost
STAGES = [
    ("lead_discovery", "Lead discovery", "潜在客户挖掘", 10, 14, "pipeline", [], [], False, False),
    (
        "needs_analysis",
        "Needs analysis",
        "需求调研",
        25,
        21,
        "pipeline",
        ["contact"],
        ["Decision maker identified"],
        False,
        False,
    ),
    (
        "demo",
        "Demo",
        "产品演示",
        50,
        21,
        "best_case",
        ["contact", "amount", "product_category"],
        ["Budget confirmed"],
        False,
        False,
    ),
    (
        "proposal_negotiation",
        "Proposal and negotiation",
        "报价与谈判",
        75,
        30,
        "commit",
        ["contact", "amount", "product_category", "expected_close"],
        ["Proposal sent"],
        False,
        False,
    ),
    (
        "contract_signed",
        "Contract signed",
        "合同签订",
        100,
        None,
        "closed",
        ["amount"],
        [],
        True,
        False,
    ),
    ("lost", "Lost", "丢单", 0, None, "omitted", [], [], False, True),
]


def create_default_pipeline(apps, schema_editor):
    Pipeline = apps.get_model("pipeline", "Pipeline")
    Stage = apps.get_model("pipeline", "Stage")
    PipelineSettings = apps.get_model("pipeline", "PipelineSettings")
    PipelineSettings.objects.get_or_create(pk=1)
    pipeline = Pipeline.objects.filter(is_default=True).first()
    if pipeline is None:
        pipeline = Pipeline.objects.create(
            name="Sales pipeline", name_zh="销售管道", is_default=True
        )
    for order, (code, name, name_zh, probability, sla, category, fields, checklist, won, lost) in (
        enumerate(STAGES, start=1)
    ):
        if Stage.objects.filter(pipeline=pipeline, code=code).exists():
            continue
        Stage.objects.create(
            pipeline=pipeline,
            order=order * 10,
            code=code,
            name=name,
            name_zh=name_zh,
            win_probability=probability,
            sla_days=sla,
            forecast_category=category,
            required_fields=fields,
            checklist=checklist,
            is_won=won,
            is_lost=lost,
        )


class Migration(migrations.Migration):
    dependencies = [("pipeline", "0001_deals_stages_assignment_snapshots")]

    operations = [migrations.RunPython(create_default_pipeline, migrations.RunPython.noop)]
