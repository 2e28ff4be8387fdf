import importlib

import pytest
from django.apps import apps
from django.utils import translation

seed = importlib.import_module("pipeline.migrations.0002_default_pipeline_with_bilingual_stages")


@pytest.fixture(autouse=True)
def _default_pipeline(request):
    """Transactional tests flush the tables, data-migration rows included: put the default
    pipeline back (the migration's function leaves an existing one alone)."""
    if "transactional_db" in request.fixturenames or "db" in request.fixturenames:
        seed.create_default_pipeline(apps, None)


@pytest.fixture(autouse=True)
def _english_explanations(settings):
    """Statement lines are written in the person's language, else the installation's; the
    hand-checked explanations here are the English ones."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def english():
    """The code under test itself runs in English (explanations written for the active
    language)."""
    with translation.override("en"):
        yield
