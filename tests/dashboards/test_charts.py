"""The server-rendered SVG charts: well-formed XML, bars and points in proportion to the
figures, labels escaped, an accessible name, sizes in the viewBox only."""

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.template.defaultfilters import floatformat
from django.template.loader import render_to_string
from django.utils import translation

from salesmgmt.core import charts

SVG = "{http://www.w3.org/2000/svg}"
NASTY = 'Demo <script>alert("x")</script> & co\'s'


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def parse(chart: charts.Chart) -> ET.Element:
    root = ET.fromstring(str(chart.svg))
    assert root.tag == f"{SVG}svg"
    return root


def bars(root):
    return [rect for rect in root.iter(f"{SVG}rect") if rect.get("class") == "bar"]


def texts(root) -> list[str]:
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


def funnel(**overrides):
    stages = [
        {"label": "Lead", "now": 10, "entered": 20, "conversion": Decimal("75.0")},
        {"label": "Demo", "now": 5, "entered": 0, "conversion": None},
        {"label": NASTY, "now": 0, "entered": 4, "conversion": Decimal("25.0"), "bottleneck": True},
    ]
    return charts.funnel_chart(title=overrides.get("title", "Funnel <b>"), stages=stages)


def test_the_funnel_chart_is_valid_svg_sized_by_its_viewbox_and_named_for_screen_readers():
    chart = funnel()
    root = parse(chart)
    assert root.get("viewBox").startswith("0 0 480 ")
    assert root.get("width") is None and root.get("height") is None
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Funnel <b>"
    assert root.find(f"{SVG}title").text == "Funnel <b>"
    assert "<b>" not in str(chart.svg)


def test_funnel_bars_are_proportional_to_the_counts_one_pair_per_stage():
    root = parse(funnel())
    widths = [float(rect.get("width")) for rect in bars(root)]
    assert len(widths) == 6  # in stage now and entered, for each of three stages
    now_lead, entered_lead, now_demo, entered_demo, now_third, entered_third = widths
    assert entered_lead == 230  # the largest figure fills the bar area
    assert now_lead == pytest.approx(entered_lead / 2, abs=0.1)
    assert now_demo == pytest.approx(entered_lead / 4, abs=0.1)
    assert entered_third == pytest.approx(entered_lead / 5, abs=0.1)
    assert entered_demo == 0 and now_third == 0


def test_funnel_labels_are_escaped_and_the_bottleneck_is_marked():
    chart = funnel()
    markup = str(chart.svg)
    assert "<script>" not in markup
    assert "&lt;script&gt;" in markup
    root = parse(chart)
    written = texts(root)
    # The long label is shortened in the drawing; its tooltip keeps it whole.
    label_titles = [
        group.find(f"{SVG}title").text
        for group in root.iter(f"{SVG}g")
        if group.find(f"{SVG}text").get("class") == "label"
    ]
    assert label_titles == ["Lead", "Demo", NASTY]
    assert any(text.startswith("Demo <script>") and text.endswith("…") for text in written)
    conversions = [n for n in root.iter(f"{SVG}text") if "conversion" in (n.get("class") or "")]
    assert [node.get("class") for node in conversions] == [
        "conversion",
        "conversion",
        "conversion bottleneck",
    ]
    assert conversions[0].text == "75.0%"
    assert conversions[1].text == "—"
    assert conversions[2].text == "! 25.0%"
    assert conversions[2].get("fill") == charts.DANGER_COLOUR


def test_the_funnel_table_fallback_holds_the_same_figures():
    chart = funnel()
    assert chart.columns == [
        "Stage",
        "In stage now",
        "Entered in the range",
        "Conversion",
        "Bottleneck",
    ]
    assert chart.rows == [
        ["Lead", "10", "20", "75.0%", ""],
        ["Demo", "5", "0", "—", ""],
        [NASTY, "0", "4", "25.0%", "yes"],
    ]
    html = render_to_string("dashboards/partials/_chart.html", {"chart": chart})
    assert "<script>" not in html
    assert html.count("<tr>") == 4
    ET.fromstring(html)  # the whole figure is well-formed too


def test_a_funnel_with_nothing_in_it_draws_empty_bars():
    chart = charts.funnel_chart(
        title="Empty", stages=[{"label": "Lead", "now": 0, "entered": 0, "conversion": None}]
    )
    assert [float(rect.get("width")) for rect in bars(parse(chart))] == [0, 0]


def test_nice_ceiling():
    assert charts.nice_ceiling(0) == 1
    assert charts.nice_ceiling(Decimal("0.4")) == 1
    assert charts.nice_ceiling(7) == 10
    assert charts.nice_ceiling(11) == 20
    assert charts.nice_ceiling(240) == 500
    assert charts.nice_ceiling(Decimal("1234567.89")) == 2000000
    assert charts.nice_ceiling(5000) == 5000
    assert charts.nice_ceiling(5001) == 10000


def axis_labels(root) -> list[str]:
    return [node.text for node in root.iter(f"{SVG}text") if node.get("class") == "axis"]


def test_the_y_axis_is_labelled_in_round_steps():
    chart = charts.line_chart(title="Deals", x_labels=["a", "b"], series=[("N", [3, 41])])
    assert axis_labels(parse(chart))[:6] == ["0", "10", "20", "30", "40", "50"]
    few = charts.line_chart(title="Deals", x_labels=["a", "b"], series=[("N", [0, 2])])
    assert axis_labels(parse(few))[:3] == ["0", "1", "2"]


def test_the_line_chart_places_points_by_value_on_a_common_axis():
    chart = charts.line_chart(
        title="Forecast & trend",
        x_labels=["Nov 1", "Nov 2", "Nov 3"],
        series=[("Won <x>", [0, 50, 100]), ("Commit", [Decimal("25"), 25, 25])],
    )
    root = parse(chart)
    assert root.get("aria-label") == "Forecast & trend"
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 2
    assert lines[0].find(f"{SVG}title").text == "Won <x>"
    won = [tuple(map(float, point.split(","))) for point in lines[0].get("points").split()]
    commit = [tuple(map(float, point.split(","))) for point in lines[1].get("points").split()]
    bottom, top = won[0][1], won[2][1]  # 0 and 100, the top of the axis
    assert won[1][1] == pytest.approx((bottom + top) / 2, abs=0.1)
    assert commit[0][1] == pytest.approx(bottom - (bottom - top) / 4, abs=0.1)
    assert [x for x, _y in won] == [x for x, _y in commit]
    assert won[0][0] < won[1][0] < won[2][0]
    assert len(list(root.iter(f"{SVG}polygon"))) == 2  # the areas
    assert len(list(root.iter(f"{SVG}circle"))) == 6
    assert chart.legend == [("Won <x>", charts.PALETTE[0]), ("Commit", charts.PALETTE[1])]
    assert chart.columns == ["Day", "Won <x>", "Commit"]
    assert chart.rows[1] == ["Nov 2", "50", "25"]
    assert "Nov 1" in texts(root) and "Nov 3" in texts(root)


def test_a_line_chart_with_one_day_draws_a_point_without_an_area():
    chart = charts.line_chart(title="One day", x_labels=["Nov 1"], series=[("Won", [10])])
    root = parse(chart)
    assert len(list(root.iter(f"{SVG}polygon"))) == 0
    assert len(list(root.iter(f"{SVG}circle"))) == 1


def test_the_bar_chart_compares_values_in_proportion():
    chart = charts.bar_chart(
        title="Compared",
        items=[("Closed won", Decimal("80000")), ("Commit", Decimal("20000")), ("<i>", 0)],
        value_label="Amount",
    )
    root = parse(chart)
    widths = [float(rect.get("width")) for rect in bars(root)]
    assert widths == [250, 62.5, 0]
    assert "&lt;i&gt;" in str(chart.svg)
    assert chart.rows == [["Closed won", "80,000"], ["Commit", "20,000"], ["<i>", "0"]]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_numbers_are_written_like_the_pages_write_them(language):
    with translation.override(language):
        chart = charts.bar_chart(title="对比", items=[("赢单", Decimal("1234566.50"))])
        on_the_page = floatformat(Decimal("1234566.50"), "0g")
    root = parse(chart)
    assert on_the_page in texts(root)
    assert on_the_page.replace(",", "") == "1234567"  # rounded half up, not cut
    assert root.get("aria-label") == "对比"


def test_long_names_are_shortened_in_the_drawing_only():
    names = ["Proposal and negotiation", "报价与谈判合同签订前的商务", "报价与谈判及合同签订前"]
    chart = charts.bar_chart(title="Names", items=[(name, 1) for name in names])
    root = parse(chart)
    drawn = [node.text for node in root.iter(f"{SVG}text") if node.get("class") == "label"]
    assert drawn[0] == "Proposal and negotiation"
    assert drawn[1].endswith("…") and len(drawn[1]) < len(names[1])
    assert drawn[2] == names[2]  # eleven Chinese characters fit
    assert [row[0] for row in chart.rows] == names
