from django import template
from django.utils.html import format_html

register = template.Library()

DAY_SECONDS = 86400


@register.filter
def days_since(moment, now) -> int:
    """Whole days from `moment` to `now` (days a deal has been in its stage)."""
    if moment is None or now is None:
        return 0
    return max(int((now - moment).total_seconds() // DAY_SECONDS), 0)


@register.simple_tag(takes_context=True)
def deal_sort_link(context, label, key, current):
    """A deal list heading that sorts by `key` (reversed when already sorted so), keeping
    the filters; with htmx only the table is swapped."""
    request = context["request"]
    query = request.GET.copy()
    query.pop("page", None)
    base = key.lstrip("-")
    active = current.lstrip("-") == base
    query["sort"] = (base if current.startswith("-") else f"-{base}") if active else key
    arrow = (" ↓" if current.startswith("-") else " ↑") if active else ""
    return format_html(
        '<a href="?{0}" hx-get="?{0}" hx-target="#deal-table" hx-push-url="true">{1}{2}</a>',
        query.urlencode(),
        label,
        arrow,
    )
