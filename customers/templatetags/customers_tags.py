from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_link(context, label, key, current):
    """A column heading that sorts the list by `key`, and reverses it when already sorted
    so; the other query parameters (filters) are kept, the page is not."""
    request = context["request"]
    query = request.GET.copy()
    query.pop("page", None)
    base = key.lstrip("-")
    active = current.lstrip("-") == base
    query["sort"] = (base if current.startswith("-") else f"-{base}") if active else key
    arrow = ""
    if active:
        arrow = " ↓" if current.startswith("-") else " ↑"
    # With htmx only the table is swapped; without it the link reloads the page.
    return format_html(
        '<a href="?{0}" hx-get="?{0}" hx-target="#account-table" hx-push-url="true">{1}{2}</a>',
        query.urlencode(),
        label,
        arrow,
    )


@register.filter
def score_actual(value) -> str:
    """What an account has for one scoring rule: a list of codes or names, or a number."""
    if value is None or value == []:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)
