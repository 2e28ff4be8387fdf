"""Spreadsheets of the incentives pages: one statement with its lines, and the payroll of a
period (one row per person). Text cells a spreadsheet would run as formulas are neutralised
like the account and deal exports'."""

from django.utils.translation import gettext as _

from customers.services import EXPORT_CONTENT_TYPES, neutralize_cell
from salesmgmt.core import exports as spreadsheets

XLSX = EXPORT_CONTENT_TYPES["xlsx"]


def _neutral(row: list) -> list:
    return [neutralize_cell(value) for value in row]


def statement_xlsx(statement) -> bytes:
    def rows():
        yield _neutral([_("Person"), str(statement.user), _("Period"), statement.period_label])
        yield _neutral(
            [_("Status"), statement.get_status_display(), _("Currency"), statement.currency]
        )
        yield _neutral(
            [_("Revenue target"), statement.target, _("Attainment (%)"), statement.attainment]
        )
        yield []
        yield [_("Kind"), _("Deal"), _("Explanation"), _("Basis"), _("Rate (%)"), _("Amount")]
        for line in statement.lines.all():
            yield _neutral(
                [
                    line.get_kind_display(),
                    line.deal.name if line.deal_id else "",
                    line.explanation,
                    line.basis,
                    line.rate,
                    line.amount,
                ]
            )
        yield []
        for label, value in (
            (_("Commission"), statement.commission_total),
            (_("Bonuses"), statement.bonus_total),
            (_("Adjustments"), statement.adjustment_total),
            (_("Total"), statement.total),
        ):
            yield ["", "", "", "", label, value]

    return spreadsheets.xlsx_bytes(rows(), title=_("Statement"))


def statement_filename(statement) -> str:
    return f"statement-{statement.user.username}-{statement.start:%Y%m%d}.xlsx"


def payroll_xlsx(rows: list[dict], *, start, end) -> bytes:
    def lines():
        yield [
            _("Username"),
            _("Name"),
            _("Team"),
            _("Currency"),
            _("Commission"),
            _("Bonuses"),
            _("Adjustments"),
            _("Total"),
        ]
        for row in rows:
            yield _neutral(
                [
                    row["user__username"],
                    row["name"],
                    row["user__team__name"] or "",
                    row["currency"],
                    row["commission"],
                    row["bonuses"],
                    row["adjustments"],
                    row["total"],
                ]
            )

    return spreadsheets.xlsx_bytes(lines(), title=_("Payroll"))


def payroll_filename(start, end) -> str:
    return f"payroll-{start:%Y%m%d}-{end:%Y%m%d}.xlsx"
