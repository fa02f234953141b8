"""A small FastAPI app on minorm: a notes API with create, list, read, update and delete.

Run it with `uvicorn examples.fastapi_app.app:app` (uvicorn is not a minorm dependency). The
database URL comes from MINORM_DATABASE_URL (default: `notes.db` in the working directory).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pydantic
from fastapi import FastAPI, HTTPException, Response

import minorm

models = minorm.Registry(database=os.environ.get("MINORM_DATABASE_URL") or "sqlite:///notes.db")


class Note(minorm.Model):
    """A minorm model is a pydantic model: FastAPI uses it as a response model as it is."""

    id: int | None = minorm.BigIntegerField(primary_key=True)
    title: str = minorm.CharField(max_length=200)
    body: str = minorm.TextField(default="")
    done: bool = minorm.BooleanField(default=False)
    created_at: datetime.datetime = minorm.DateTimeField(auto_now_add=True)

    class Meta:
        registry = models


class NoteIn(pydantic.BaseModel):
    """What a client sends to create a note."""

    title: str = pydantic.Field(min_length=1, max_length=200)
    body: str = ""


class NotePatch(pydantic.BaseModel):
    """What a client sends to change a note; fields left out stay as they are."""

    title: str | None = pydantic.Field(default=None, min_length=1, max_length=200)
    body: str | None = None
    done: bool | None = None


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Connect at start-up and disconnect at shutdown: one pool for the whole app.
    async with models:
        await models.create_all()  # a real app runs `minorm migrate` when it deploys instead
        yield


app = FastAPI(title="Notes", lifespan=lifespan)


async def get_note(note_id: int) -> Note:
    note = await Note.query.get_or_none(pk=note_id)
    if note is None:
        raise HTTPException(status_code=404, detail=f"note {note_id} not found")
    return note


@app.post("/notes", status_code=201)
async def create_note(data: NoteIn) -> Note:
    return await Note.query.create(**data.model_dump())


@app.get("/notes")
async def list_notes(done: bool | None = None, limit: int = 20, offset: int = 0) -> list[Note]:
    notes = Note.query.order_by("-id")
    if done is not None:
        notes = notes.filter(done=done)
    return await notes.limit(limit).offset(offset)


@app.get("/notes/{note_id}")
async def read_note(note_id: int) -> Note:
    return await get_note(note_id)


@app.patch("/notes/{note_id}")
async def update_note(note_id: int, data: NotePatch) -> Note:
    note = await get_note(note_id)
    return await note.update(**data.model_dump(exclude_unset=True))


@app.delete("/notes/{note_id}", status_code=204)
async def delete_note(note_id: int) -> Response:
    await (await get_note(note_id)).delete()
    return Response(status_code=204)
