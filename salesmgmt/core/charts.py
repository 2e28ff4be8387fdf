"""Charts drawn on the server as SVG markup, with no JavaScript and no chart library.

Each function returns a `Chart`: the SVG (sized by its viewBox, so it scales to the width of
a phone), its title for screen readers (an `aria-label` and a `<title>`), a legend, and the
same figures as table rows for a fallback table. Every label is escaped; numbers are
localized like the rest of the page.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

PALETTE = ("#1d5fbf", "#1a7f4b", "#b7791f", "#6b46c1", "#2c7a7b", "#c53030")
NOW_COLOUR = "#1d5fbf"
ENTERED_COLOUR = "#9ab8e6"
TEXT_COLOUR = "#1f2933"
MUTED_COLOUR = "#6b7785"
GRID_COLOUR = "#dde2e8"
DANGER_COLOUR = "#c53030"
# A narrow drawing, so its 12-unit text stays legible when a phone scales it down.
WIDTH = 480
LABEL_WIDTH = 140
# Names wider than this (in average Latin letters at 12 units; a Chinese character is about
# as wide as 2.5 of them) are shortened in the drawing; the full name stays in the tooltip
# and the table.
LABEL_CHARS = 28


@dataclass
class Chart:
    title: str
    svg: SafeString
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)


def format_number(value, decimals: int = 0) -> str:
    """A number as the page shows it: localized, with thousands grouped."""
    if value is None:
        return "—"
    # Rounded half up like the pages' floatformat (number_format alone would cut digits).
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    return number_format(rounded, decimal_pos=decimals, force_grouping=True)


def format_percent(value) -> str:
    return "—" if value is None else f"{format_number(value, 1)}%"


def _coordinate(value: float) -> str:
    """Coordinates with at most one decimal, so the markup stays small and stable."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _clip(label: str, limit: int = LABEL_CHARS) -> str:
    width = 0
    for index, char in enumerate(label):
        width += 2.5 if ord(char) > 0x2E80 else 1
        if width > limit:
            return label[: max(index - 1, 1)] + "…"
    return label


def _svg(title: str, width: float, height: float, kind: str, parts: list[str]) -> SafeString:
    opening = format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" '
        'aria-label="{}" class="chart chart-{}" preserveAspectRatio="xMinYMin meet" '
        'font-size="12" fill="{}"><title>{}</title>',
        _coordinate(width),
        _coordinate(height),
        title,
        kind,
        TEXT_COLOUR,
        title,
    )
    # Every part was built with format_html, which escapes its arguments.
    return mark_safe(opening + "".join(parts) + "</svg>")


def _rect(x, y, width, height, colour, tooltip, css_class="bar") -> str:
    return format_html(
        '<rect class="{}" x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>',
        css_class,
        _coordinate(x),
        _coordinate(y),
        _coordinate(width),
        _coordinate(height),
        colour,
        tooltip,
    )


def _text(x, y, text, anchor="start", colour=TEXT_COLOUR, css_class="", tooltip="") -> str:
    element = format_html(
        '<text class="{}" x="{}" y="{}" text-anchor="{}" fill="{}">{}</text>',
        css_class,
        _coordinate(x),
        _coordinate(y),
        anchor,
        colour,
        text,
    )
    if not tooltip:
        return element
    # The tooltip goes on a group around the text, so the text reads only what is drawn.
    return format_html("<g><title>{}</title>{}</g>", tooltip, element)


def _scale(value, top: float, length: float) -> float:
    if not top or not value or value < 0:
        return 0.0
    return float(value) / float(top) * length


def funnel_chart(*, title: str, stages: Sequence[dict]) -> Chart:
    """One row per stage: a bar for the deals in it now and one for the deals that entered
    it in the range (both on the same scale), and the stage's conversion on the right, in
    red when the stage is a bottleneck. `stages`: dicts with label, now, entered,
    conversion (percent or None) and bottleneck."""
    row_height, top, bar_height = 40, 24, 13
    bar_x = LABEL_WIDTH + 6
    bar_length = 230
    largest = max([max(stage["now"], stage["entered"]) for stage in stages] or [0])
    now_label, entered_label = _("In stage now"), _("Entered in the range")
    conversion_label, bottleneck_label = _("Conversion"), _("Bottleneck")
    parts = [_text(WIDTH - 4, 14, conversion_label, "end", MUTED_COLOUR)]
    rows = []
    for index, stage in enumerate(stages):
        y = top + index * row_height
        label = str(stage["label"])
        parts.append(_text(0, y + 20, _clip(label), tooltip=label, css_class="label"))
        for offset, value, colour, name in (
            (4, stage["now"], NOW_COLOUR, now_label),
            (4 + bar_height + 2, stage["entered"], ENTERED_COLOUR, entered_label),
        ):
            length = _scale(value, largest, bar_length)
            figure = format_number(value)
            parts.append(
                _rect(bar_x, y + offset, length, bar_height, colour, f"{label}: {name} {figure}")
            )
            parts.append(_text(bar_x + length + 4, y + offset + 11, figure, css_class="value"))
        conversion = format_percent(stage.get("conversion"))
        bottleneck = bool(stage.get("bottleneck"))
        parts.append(
            _text(
                WIDTH - 4,
                y + 20,
                f"! {conversion}" if bottleneck else conversion,
                "end",
                DANGER_COLOUR if bottleneck else TEXT_COLOUR,
                "conversion bottleneck" if bottleneck else "conversion",
                f"{label}: {bottleneck_label}" if bottleneck else "",
            )
        )
        rows.append(
            [
                label,
                format_number(stage["now"]),
                format_number(stage["entered"]),
                conversion,
                _("yes") if bottleneck else "",
            ]
        )
    height = top + len(stages) * row_height + 4
    return Chart(
        title=title,
        svg=_svg(title, WIDTH, height, "funnel", parts),
        columns=[_("Stage"), now_label, entered_label, conversion_label, bottleneck_label],
        rows=rows,
        legend=[(now_label, NOW_COLOUR), (entered_label, ENTERED_COLOUR)],
    )


def nice_ceiling(value) -> Decimal:
    """The smallest of 1, 2 or 5 × 10^n at or above `value` (at least 1): the top of an
    axis whose fifths are round numbers."""
    value = Decimal(str(value or 0))
    if value <= 1:
        return Decimal(1)
    magnitude = Decimal(10) ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return Decimal(step) * magnitude
    return 10 * magnitude


def line_chart(
    *,
    title: str,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence]],
    area: bool = True,
    decimals: int = 0,
) -> Chart:
    """One line per series over the same x labels (days, say), on a common y axis from zero,
    each with a light area under it when `area`. `series`: (label, values) pairs, one value
    per x label."""
    height, left, right, top, bottom = 220, 72, 12, 12, 30
    plot_width, plot_height = WIDTH - left - right, height - top - bottom
    points = len(x_labels)
    largest = max(
        [max([value or 0 for value in values] or [0]) for _label, values in series] or [0]
    )
    ceiling = nice_ceiling(largest)

    def x_of(index: int) -> float:
        return left + (plot_width / 2 if points == 1 else index * plot_width / (points - 1))

    def y_of(value) -> float:
        return top + plot_height - _scale(value, ceiling, plot_height)

    ticks = 5 if ceiling >= 5 else int(ceiling)
    parts = []
    for step in range(ticks + 1):
        value = ceiling * step / ticks
        y = y_of(value)
        parts.append(
            format_html(
                '<line class="grid" x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>',
                left,
                _coordinate(y),
                WIDTH - right,
                _coordinate(y),
                GRID_COLOUR,
            )
        )
        parts.append(_text(left - 6, y + 4, format_number(value), "end", MUTED_COLOUR, "axis"))
    if points:
        shown = sorted({round(i * (points - 1) / 4) for i in range(5)}) if points > 1 else [0]
        for index in shown:
            anchor = "middle"
            if points > 1 and index == 0:
                anchor = "start"
            elif points > 1 and index == points - 1:
                anchor = "end"
            parts.append(
                _text(x_of(index), height - 10, x_labels[index], anchor, MUTED_COLOUR, "axis")
            )
    legend = []
    for number, (label, values) in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        legend.append((str(label), colour))
        coordinates = [(x_of(i), y_of(value)) for i, value in enumerate(values)]
        if not coordinates:
            continue
        line = " ".join(f"{_coordinate(x)},{_coordinate(y)}" for x, y in coordinates)
        if area and len(coordinates) > 1:
            baseline = _coordinate(top + plot_height)
            outline = (
                f"{_coordinate(coordinates[0][0])},{baseline} {line} "
                f"{_coordinate(coordinates[-1][0])},{baseline}"
            )
            parts.append(
                format_html(
                    '<polygon class="area" points="{}" fill="{}" fill-opacity="0.08"/>',
                    outline,
                    colour,
                )
            )
        parts.append(
            format_html(
                '<polyline class="line" points="{}" fill="none" stroke="{}" stroke-width="2">'
                "<title>{}</title></polyline>",
                line,
                colour,
                label,
            )
        )
        if len(coordinates) <= 45:
            for index, (x, y) in enumerate(coordinates):
                parts.append(
                    format_html(
                        '<circle class="point" cx="{}" cy="{}" r="2.5" fill="{}">'
                        "<title>{}</title></circle>",
                        _coordinate(x),
                        _coordinate(y),
                        colour,
                        f"{label}, {x_labels[index]}: {format_number(values[index], decimals)}",
                    )
                )
    rows = [
        [str(x_label), *[format_number(values[i], decimals) for _label, values in series]]
        for i, x_label in enumerate(x_labels)
    ]
    return Chart(
        title=title,
        svg=_svg(title, WIDTH, height, "line", parts),
        columns=[_("Day"), *[str(label) for label, _values in series]],
        rows=rows,
        legend=legend,
    )


def bar_chart(
    *, title: str, items: Sequence[tuple[str, object]], value_label: str = "", decimals: int = 0
) -> Chart:
    """A small horizontal bar per item, all on one scale from zero: a quick comparison."""
    row_height, bar_height = 26, 16
    bar_x = LABEL_WIDTH + 6
    bar_length = 250
    largest = max([value or 0 for _label, value in items] or [0])
    parts = []
    rows = []
    for index, (label, value) in enumerate(items):
        label = str(label)
        y = 4 + index * row_height
        length = _scale(value, largest, bar_length)
        figure = format_number(value, decimals)
        parts.append(_text(0, y + 13, _clip(label), tooltip=label, css_class="label"))
        parts.append(
            _rect(
                bar_x,
                y,
                length,
                bar_height,
                PALETTE[index % len(PALETTE)],
                f"{label}: {figure}",
            )
        )
        parts.append(_text(bar_x + length + 4, y + 13, figure, css_class="value"))
        rows.append([label, figure])
    height = 8 + len(items) * row_height
    return Chart(
        title=title,
        svg=_svg(title, WIDTH, height, "bars", parts),
        columns=["", value_label],
        rows=rows,
    )
