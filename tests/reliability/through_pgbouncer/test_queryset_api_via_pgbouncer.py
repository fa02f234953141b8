"""The queryset API tests of tests/integration/test_queryset_api.py, through PgBouncer."""

from tests.integration.test_queryset_api import *  # noqa: F403
