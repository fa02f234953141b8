"""The queryset tests of tests/integration/test_queryset.py, through PgBouncer."""

from tests.integration.test_queryset import *  # noqa: F403
