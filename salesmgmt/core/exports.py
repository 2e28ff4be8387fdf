"""Spreadsheet writers shared by the list exports: rows in, CSV text or an XLSX workbook
out. The callers build and neutralise the rows; these only write them."""

import csv
import io
from collections.abc import Iterable

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE


class _Echo:
    def write(self, value):
        return value


def csv_lines(rows: Iterable[list]) -> Iterable[str]:
    """CSV text line by line, for a streaming response; a byte order mark first, so
    spreadsheets read the Chinese text as UTF-8."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    for row in rows:
        yield writer.writerow(row)


def xlsx_bytes(rows: Iterable[list], *, title: str) -> bytes:
    """An XLSX workbook written row by row (openpyxl's write-only mode), without the
    control characters XML cannot hold."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    for row in rows:
        sheet.append(
            [
                ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value
                for value in row
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
