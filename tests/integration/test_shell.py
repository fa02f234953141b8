"""`minorm.shell`: the interactive shell driven through piped input, on every backend and with
both kernels (the standard console and IPython)."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import pytest

import minorm
from minorm.shell import run_shell, shell_namespace

APP = """
import os

import minorm

database = minorm.Database(os.environ["MINORM_DATABASE_URL"])
models = minorm.Registry(database)


class Person(minorm.Model):
    name = minorm.CharField(max_length=50)

    class Meta:
        registry = models
        tablename = "shell_people_{suffix}"
"""

SESSION = """\
print("count:", await Person.query.count())
await Person.query.create(name="Cy")
await Person.query.get(name="nobody")
print("after error:", await Person.query.filter(Q(name="Ada") | Q(name="Cy")).count())
names = [p.name for p in await Person.query.order_by("name").all()]
print("names:", names)
"""


@pytest.fixture
async def app(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ModuleType]:
    """An app module with a `Person` model whose table holds Ada and Bob."""
    name = f"shellapp_{uuid.uuid4().hex[:12]}"
    (tmp_path / f"{name}.py").write_text(APP.format(suffix=name[-12:]))
    monkeypatch.setenv("MINORM_DATABASE_URL", database_url)
    spec = importlib.util.spec_from_file_location(name, tmp_path / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    await module.models.create_all()
    async with module.database:
        for person in ("Ada", "Bob"):
            await module.Person.query.create(name=person)
    try:
        yield module
    finally:
        await module.models.drop_all()


async def _run(app: ModuleType, kernel: str, stdin: str) -> tuple[int, str, str]:
    folder = str(Path(app.__file__ or "").parent)
    script = f"import {app.__name__} as app; from minorm.shell import run_shell; "
    script += f"run_shell(app.models, kernel={kernel!r})"
    env = {**os.environ, "PYTHONPATH": folder, "TERM": "dumb", "NO_COLOR": "1"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=folder,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.parametrize("kernel", ["python", "ipython"])
async def test_awaited_queries_run_at_the_prompt(app: ModuleType, kernel: str) -> None:
    returncode, out, err = await _run(app, kernel, SESSION)
    assert returncode == 0, err
    assert "count: 2" in out
    assert "ObjectNotFound" in out + err  # shown, and the session goes on
    assert "after error: 2" in out
    assert "names: ['Ada', 'Bob', 'Cy']" in out
    assert "Models: Person. Also: registry, database, databases, Q." in out + err
    async with app.database:
        assert await app.Person.query.count() == 3  # the row written at the prompt is saved


async def test_end_of_input_disconnects_and_exits(app: ModuleType) -> None:
    returncode, out, err = await _run(app, "python", "x = 1 +\nprint('still here')\n")
    assert returncode == 0, err
    assert "SyntaxError" in err
    assert "still here" in out


def test_namespace_holds_the_registry_models_and_q(app: ModuleType) -> None:
    namespace = shell_namespace(app.models)
    assert namespace["Person"] is app.Person
    assert namespace["registry"] is app.models
    assert namespace["database"] is app.database
    assert namespace["Q"] is minorm.Q
    assert namespace["databases"] == {}


def test_unknown_kernel_is_a_configuration_error(app: ModuleType) -> None:
    with pytest.raises(minorm.ConfigurationError, match="Unknown shell kernel 'bpython'"):
        run_shell(app.models, kernel="bpython")  # type: ignore[arg-type]  # the error under test


@pytest.mark.parametrize("kernel", ["python", "ipython"])
async def test_a_terminal_session(app: ModuleType, kernel: str) -> None:
    """The shell on a pseudo-terminal, as a user sees it: prompts, completion set up, echo."""
    import pty
    import select

    folder = str(Path(app.__file__ or "").parent)
    script = f"import {app.__name__} as app; from minorm.shell import run_shell; "
    script += f"run_shell(app.models, kernel={kernel!r})"
    env = {**os.environ, "PYTHONPATH": folder, "TERM": "dumb", "NO_COLOR": "1"}
    main_fd, terminal_fd = pty.openpty()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        stdin=terminal_fd,
        stdout=terminal_fd,
        stderr=terminal_fd,
        env=env,
        cwd=folder,
    )
    os.close(terminal_fd)
    seen = b""

    async def read_until(marker: bytes) -> None:
        nonlocal seen
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while marker not in seen:
            assert loop.time() < deadline, seen.decode(errors="replace")
            ready, _, _ = select.select([main_fd], [], [], 0)
            if not ready:
                await asyncio.sleep(0.05)
                continue
            try:
                seen += os.read(main_fd, 4096)
            except OSError:  # the terminal closed: the shell has ended
                break

    try:
        await read_until(b"Top-level await works")
        os.write(main_fd, b'print("total:", await Person.query.count() * 10)\r')
        await read_until(b"total: 20")
        os.write(main_fd, b"exit()\r")
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        os.close(main_fd)
    assert b"total: 20" in seen
