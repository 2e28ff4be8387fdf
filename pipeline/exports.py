"""The deal list as CSV or XLSX: the visible, filtered deals the page shows, one row each.
Text cells a spreadsheet would run as formulas are neutralised like the account export's."""

from collections.abc import Callable, Iterable

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers.services import EXPORT_CONTENT_TYPES, neutralize_cell
from pipeline.models import Deal
from salesmgmt.core import exports as spreadsheets

CONTENT_TYPES = EXPORT_CONTENT_TYPES
CHUNK_SIZE = 2000


def _date(value) -> str:
    return value.isoformat() if value else ""


COLUMNS: tuple[tuple[str, Callable[[Deal], object]], ...] = (
    (gettext_lazy("Id"), lambda d: d.pk),
    (gettext_lazy("Deal name"), lambda d: d.name),
    (gettext_lazy("Account"), lambda d: d.account.name),
    (gettext_lazy("Primary contact"), lambda d: d.contact.name if d.contact_id else ""),
    (gettext_lazy("Pipeline"), lambda d: d.pipeline.display_name),
    (gettext_lazy("Stage"), lambda d: d.stage.display_name),
    (gettext_lazy("Status"), lambda d: d.get_status_display()),
    (gettext_lazy("Amount"), lambda d: d.amount),
    (gettext_lazy("Probability (%)"), lambda d: d.probability),
    (gettext_lazy("Forecast category"), lambda d: d.get_forecast_category_display()),
    (gettext_lazy("Owner username"), lambda d: d.owner.username),
    (gettext_lazy("Expected close date"), lambda d: _date(d.expected_close)),
    (gettext_lazy("Close date"), lambda d: _date(d.closed_at)),
    (gettext_lazy("Lost reason"), lambda d: d.get_lost_reason_display()),
    (
        gettext_lazy("Product category"),
        lambda d: d.product_category.display_name if d.product_category_id else "",
    ),
    (
        gettext_lazy("Competitors"),
        lambda d: ", ".join(c.display_name for c in d.competitors.all()),
    ),
    (gettext_lazy("Source"), lambda d: d.get_source_display()),
    (
        gettext_lazy("In stage since"),
        lambda d: timezone.localtime(d.stage_entered_at).strftime("%Y-%m-%d %H:%M"),
    ),
    (gettext_lazy("External id"), lambda d: d.external_id),
)


def filename(file_format: str) -> str:
    return f"deals-{timezone.localdate():%Y%m%d}.{file_format}"


def rows(deals) -> Iterable[list]:
    """The header and one neutralised row per deal, read CHUNK_SIZE deals at a time (their
    competitors in one more query per chunk)."""
    yield [str(label) for label, _getter in COLUMNS]
    for deal in deals.iterator(chunk_size=CHUNK_SIZE):
        yield [neutralize_cell(getter(deal)) for _label, getter in COLUMNS]


def csv_lines(deals) -> Iterable[str]:
    return spreadsheets.csv_lines(rows(deals))


def xlsx(deals) -> bytes:
    return spreadsheets.xlsx_bytes(rows(deals), title=_("Deals"))
