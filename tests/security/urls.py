"""Every URL the project serves, discovered from the URLconf, so new pages and endpoints are
covered by the security tests without being listed by hand."""

import re

from django.urls import URLPattern, URLResolver, get_resolver

# Reachable without signing in, on purpose.
PUBLIC_PAGES = {
    "login/",
    "logout/",
    "language/",
    "healthz",
    "lead/",
    "lead/thanks/",
    # A customer's 360 feedback page, opened from a signed link.
    "feedback/customer/1/",
}
PUBLIC_API = {"api/v1/auth/token/", "api/schema/", "api/docs/"}
# Django's admin guards itself (and sends visitors to its own login page).
SKIPPED_PREFIXES = ("admin/", "static/", "media/")


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def _concrete(route: str, value: str) -> str | None:
    if "format" in route:  # ".json" suffix variants of the same endpoint
        return None
    path = re.sub(r"\(\?P<\w+>[^)]*\)", value, route)
    path = re.sub(r"<(?:\w+:)?\w+>", value, path)
    path = path.replace("^", "").replace("$", "").replace("\\.", ".")
    return "/" + path


def all_paths(value: str = "1") -> list[str]:
    paths = set()
    for route in _walk(get_resolver().url_patterns):
        path = _concrete(route, value)
        if path and not path.lstrip("/").startswith(SKIPPED_PREFIXES):
            paths.add(path)
    return sorted(paths)


def api_paths(value: str = "1") -> list[str]:
    return [
        path
        for path in all_paths(value)
        if path.startswith("/api/") and path.lstrip("/") not in PUBLIC_API
    ]


def page_paths(value: str = "1") -> list[str]:
    return [
        path
        for path in all_paths(value)
        if not path.startswith("/api/") and path.lstrip("/") not in PUBLIC_PAGES
    ]
