"""What every list's filters share: choices from the visible set only (test_api holds the
API to that) and, in the API, a form of only the filters a request sets."""

import pytest
from django.forms import MultiWidget
from django.urls import URLResolver, get_resolver


def _api_filtersets():
    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
                continue
            filterset_class = getattr(
                getattr(pattern.callback, "cls", None), "filterset_class", None
            )
            if filterset_class is not None:
                yield filterset_class

    return sorted(set(walk(get_resolver().url_patterns)), key=lambda cls: cls.__name__)


@pytest.mark.parametrize("filterset_class", _api_filtersets(), ids=lambda cls: cls.__name__)
def test_every_api_filter_reads_the_parameter_of_its_own_name(filterset_class):
    # salesmgmt.core.api.FilterBackend binds the filters whose names the request sets; a
    # filter of several inputs (name_min, name_max) would never be bound.
    for name, filter_ in filterset_class().filters.items():
        assert not isinstance(filter_.field.widget, MultiWidget), name


def test_an_api_list_applies_every_filter_it_is_given_and_refuses_a_bad_one(org, token_client):
    api = token_client(org.admin)

    def usernames(query):
        response = api.get(f"/api/v1/users/?{query}")
        assert response.status_code == 200, response.content
        return {row["username"] for row in response.json()["results"]}

    east_reps = {"rep_east", "rep_a", "rep_a1", "rep_a1x", "rep_b"}
    assert usernames(f"role=rep&team={org.east.pk}") == east_reps
    assert usernames(f"role=rep&team={org.east.pk}&ladder_level={org.levels.senior.pk}") == {
        "rep_a",
        "rep_b",
    }
    assert usernames(f"role=rep&team={org.east.pk}&unknown=1") == east_reps
    response = api.get(f"/api/v1/users/?role=rep&team={org.east.pk}&ladder_level=999999")
    assert response.status_code == 400 and set(response.json()) == {"ladder_level"}
