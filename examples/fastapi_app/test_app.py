"""The notes API end to end over httpx's ASGITransport: the fixture runs the app's lifespan, so
every request goes through the real pool to a test database made by `DatabaseTestClient`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from examples.fastapi_app import app as notes
from minorm.testclient import DatabaseTestClient
from tests.backends import require


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def server_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The database to test on (a sync fixture: reaching the server runs its own loop)."""
    return require(request.param, tmp_path_factory)


@pytest.fixture
async def client(
    server_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    # The registry's models follow `models.database`: point it at a fresh test database
    # (`test_<name>`, dropped again when the app shuts down).
    database = DatabaseTestClient(server_url, drop_database=True)
    monkeypatch.setattr(notes.models, "database", database)
    transport = httpx.ASGITransport(app=notes.app)
    async with (
        notes.lifespan(notes.app),  # what the server runs at start-up and shutdown
        httpx.AsyncClient(transport=transport, base_url="http://notes") as client,
    ):
        yield client
    assert not database.is_connected


async def test_create_then_read(client: httpx.AsyncClient) -> None:
    created = await client.post("/notes", json={"title": "Buy milk", "body": "2 litres"})
    assert created.status_code == 201
    note = created.json()
    assert note["title"] == "Buy milk"
    assert note["body"] == "2 litres"
    assert note["done"] is False
    assert isinstance(note["id"], int)
    assert note["created_at"].endswith(("Z", "+00:00"))
    assert (await client.get(f"/notes/{note['id']}")).json() == note


async def test_list_filters_and_pages(client: httpx.AsyncClient) -> None:
    ids = [
        (await client.post("/notes", json={"title": f"note {n}"})).json()["id"] for n in range(5)
    ]
    await client.patch(f"/notes/{ids[1]}", json={"done": True})
    newest_first = [n["title"] for n in (await client.get("/notes")).json()]
    assert newest_first == ["note 4", "note 3", "note 2", "note 1", "note 0"]
    page = (await client.get("/notes", params={"limit": 2, "offset": 2})).json()
    assert [n["title"] for n in page] == ["note 2", "note 1"]
    assert [n["id"] for n in (await client.get("/notes", params={"done": True})).json()] == [ids[1]]


async def test_update_changes_only_what_is_sent(client: httpx.AsyncClient) -> None:
    note = (await client.post("/notes", json={"title": "Draft", "body": "text"})).json()
    changed = await client.patch(f"/notes/{note['id']}", json={"title": "Final", "done": True})
    assert changed.status_code == 200
    assert changed.json() == {**note, "title": "Final", "done": True}
    assert (await client.get(f"/notes/{note['id']}")).json() == changed.json()


async def test_delete_then_404(client: httpx.AsyncClient) -> None:
    note = (await client.post("/notes", json={"title": "Temporary"})).json()
    assert (await client.delete(f"/notes/{note['id']}")).status_code == 204
    missing = await client.get(f"/notes/{note['id']}")
    assert missing.status_code == 404
    assert missing.json() == {"detail": f"note {note['id']} not found"}
    assert (await client.delete(f"/notes/{note['id']}")).status_code == 404
    assert (await client.get("/notes")).json() == []


async def test_bad_input_is_a_422_and_writes_nothing(client: httpx.AsyncClient) -> None:
    assert (await client.post("/notes", json={"title": ""})).status_code == 422
    assert (await client.post("/notes", json={"body": "no title"})).status_code == 422
    assert (await client.post("/notes", json={"title": "x" * 201})).status_code == 422
    assert (await client.get("/notes")).json() == []
