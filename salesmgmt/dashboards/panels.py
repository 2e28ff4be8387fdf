"""Shapes the pipeline selectors' figures into what the dashboard pages draw: charts and
table rows. Nothing here reads the database; the views fetch, these arrange."""

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from salesmgmt.core import charts

# Each forecast figure with its name and definition (the API schema's wording).
FORECAST_FIGURES = (
    (
        "closed_won",
        gettext_lazy("Closed won"),
        gettext_lazy("Won with a close date in the period."),
    ),
    (
        "commit",
        gettext_lazy("Commit"),
        gettext_lazy("Open, expected in the period, category commit."),
    ),
    (
        "best_case",
        gettext_lazy("Best case"),
        gettext_lazy("Open, expected in the period, category best case."),
    ),
    (
        "pipeline",
        gettext_lazy("Pipeline"),
        gettext_lazy("Open, expected in the period, category pipeline."),
    ),
    (
        "weighted",
        gettext_lazy("Probability-weighted"),
        gettext_lazy("Those open deals' amount × probability."),
    ),
    (
        "win_rate_forecast",
        gettext_lazy("Win-rate forecast"),
        gettext_lazy("Those open deals' amount × the scope's 12-month stage-to-won rate."),
    ),
)


def forecast_labels() -> list[tuple[str, str]]:
    """The forecast figures' keys with their names in the current language."""
    return [(key, str(label)) for key, label, _definition in FORECAST_FIGURES]


def forecast_tiles(forecast: dict) -> list[dict]:
    return [
        {"key": key, "label": str(label), "definition": str(definition), "amount": forecast[key]}
        for key, label, definition in FORECAST_FIGURES
    ]


def funnel_figure(funnel: dict) -> charts.Chart:
    return charts.funnel_chart(
        title=_("Funnel: deals in each stage now and entered in the range"),
        stages=[
            {
                "label": row["name"],
                "now": row["in_stage_count"],
                "entered": row["entered"],
                "conversion": row["conversion"],
                "bottleneck": row["bottleneck"],
            }
            for row in funnel["stages"]
        ],
    )


def _day(day) -> str:
    return date_format(day, "MONTH_DAY_FORMAT")


def funnel_trend_figure(rows, funnel: dict) -> charts.Chart | None:
    """Open deals in each open stage, day by day, from the nightly snapshots."""
    rows = list(rows)
    if not rows:
        return None
    days = sorted({row["day"] for row in rows})
    counts = {(row["day"], row["stage_id"]): row["in_stage_count"] for row in rows}
    return charts.line_chart(
        title=_("Open deals in each stage, by day"),
        x_labels=[_day(day) for day in days],
        series=[
            (stage["name"], [counts.get((day, stage["stage"]), 0) for day in days])
            for stage in funnel["stages"]
            if not stage["is_won"]
        ],
        area=False,
    )


def forecast_trend_figure(rows) -> charts.Chart | None:
    """The forecast figures as snapshotted on each day of the period so far."""
    rows = list(rows)
    if not rows:
        return None
    return charts.line_chart(
        title=_("Forecast over the period"),
        x_labels=[_day(row["taken_on"]) for row in rows],
        series=[(label, [row[key] or 0 for row in rows]) for key, label in forecast_labels()],
    )


def forecast_figure(forecast: dict) -> charts.Chart:
    return charts.bar_chart(
        title=_("Forecast figures compared"),
        items=[(label, forecast[key]) for key, label in forecast_labels()],
        value_label=_("Amount"),
    )


def rep_rows(comparison: dict, funnel: dict) -> list[dict]:
    """The per-rep comparison: each person's deal figures with their conversion at each
    open stage and the funnel's rep-level bottleneck flags (empty cells for a person with
    no moves in the range)."""
    open_stages = [row["stage"] for row in funnel["stages"] if not row["is_won"]]
    conversions = {
        rep["user"]: {stage["stage"]: stage for stage in rep["stages"]} for rep in funnel["reps"]
    }
    return [
        {
            **row,
            "stages": [conversions.get(row["user"].pk, {}).get(stage) for stage in open_stages],
        }
        for row in comparison["rows"]
    ]
