"""The Database core tests of tests/integration/test_database.py, through PgBouncer."""

from tests.integration.test_database import *  # noqa: F403

# Two tests inspect server-session state, which transaction pooling shares between clients,
# so they do not carry over: a backend pid names one of PgBouncer's server connections (the
# admin connection that terminates it may be lent that very connection), and
# pg_prepared_statements counts statements other clients prepared on it.
for _name in ("test_killed_connection_is_replaced", "test_prepared_statements_can_be_turned_off"):
    globals().pop(_name)
