"""The pipeline tests' fixtures: the default pipeline put back after flushes, its stages
without entry criteria, and the hand-computed funnel scenario."""

from tests.pipeline.conftest import _default_pipeline  # noqa: F401
from tests.pipeline.test_reports import funnel_scenario, stages  # noqa: F401
