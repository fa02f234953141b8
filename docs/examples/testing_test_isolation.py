"""Each test runs inside a transaction that is rolled back when it ends.

Run it with `pytest --minorm-app=testing_test_isolation:models testing_test_isolation.py`, or
as a script (which runs pytest on itself).
"""

import os
import subprocess
import sys
import tempfile

import pytest

import minorm

URL = os.environ.get("MINORM_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/app.db"
models = minorm.Registry(database=URL)

pytestmark = pytest.mark.asyncio  # or asyncio_mode = auto in the pytest configuration


class Account(minorm.Model):
    email: str = minorm.CharField(max_length=100, unique=True)

    class Meta:
        registry = models


async def sign_up(email: str) -> Account:
    """App code: commits its own transaction."""
    async with models.database.transaction():
        return await Account.query.create(email=email)


async def test_sign_up(minorm_db: minorm.Database) -> None:
    await sign_up("ada@example.com")
    assert await Account.query.count() == 1


async def test_sign_up_again(minorm_db: minorm.Database) -> None:
    # The same unique email: the first test's row was rolled back, its commit notwithstanding.
    account = await sign_up("ada@example.com")
    assert account.email == "ada@example.com"
    assert await Account.query.count() == 1


async def test_the_database_is_a_test_database(minorm_db: minorm.Database) -> None:
    assert models.database is minorm_db
    assert (minorm_db.url.database or "").rsplit("/", 1)[-1].startswith("test_")
    print("tests run on", minorm_db.url.database)


if __name__ == "__main__":
    # A fresh interpreter, so that pytest imports this file (and minorm) itself.
    options = ["-q", "-p", "no:cacheprovider", "--minorm-app=testing_test_isolation:models"]
    sys.exit(subprocess.call([sys.executable, "-m", "pytest", *options, __file__]))
