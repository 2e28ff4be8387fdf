"""The training tests' fixtures: the default pipeline put back after flushes, and its
stages without entry criteria."""

from tests.pipeline.conftest import _default_pipeline  # noqa: F401
from tests.pipeline.test_reports import stages  # noqa: F401
