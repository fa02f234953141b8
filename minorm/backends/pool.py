"""A small connection pool shared by every backend.

Connections are handed out one user at a time; a waiter gets a released connection directly,
first come first served. A connection released as broken is closed and its slot freed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from minorm.exceptions import ConfigurationError, OperationalError
from minorm.url import DatabaseURL

C = TypeVar("C")


class Pool(Generic[C]):
    """Up to `max_size` connections; `acquire` waits at most `timeout` seconds for one."""

    def __init__(
        self,
        open: Callable[[], Awaitable[C]],
        close: Callable[[C], Awaitable[None]],
        is_closed: Callable[[C], bool],
        *,
        min_size: int,
        max_size: int,
        timeout: float | None,
        describe: str,
    ) -> None:
        self._open = open
        self._close = close
        self._is_closed = is_closed
        self.min_size = min_size
        self.max_size = max_size
        self.timeout = timeout
        self._describe = describe
        self._idle: deque[C] = deque()
        self._waiters: deque[asyncio.Future[C | None]] = deque()
        self._size = 0
        self._closing: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def size(self) -> int:
        """Connections open now, idle or in use."""
        return self._size

    @property
    def checked_out(self) -> int:
        """Connections in use now."""
        return self._size - len(self._idle)

    async def start(self) -> None:
        """Open `min_size` connections up front, so a bad URL fails at connect time."""
        self._closed = False
        while self._size < self.min_size:
            self._size += 1
            try:
                conn = await self._open()
            except BaseException:
                self._size -= 1
                raise
            self._idle.append(conn)

    def take(self) -> C | None:
        """An idle connection for the caller's sole use, without waiting; None when there is
        none (then `await acquire()`)."""
        while self._idle and not self._closed:
            conn = self._idle.pop()
            if not self._is_closed(conn):
                return conn
            self._forget(conn)
        return None

    async def acquire(self) -> C:
        """Return a connection for the caller's sole use; raise OperationalError on timeout."""
        if self._closed:
            raise OperationalError(f"The connection pool of {self._describe} is closed.")
        while True:
            conn = self.take()
            if conn is not None:
                return conn
            if self._size < self.max_size:
                return await self._grow()
            conn_or_none = await self._wait()
            if conn_or_none is not None:
                return conn_or_none

    async def _grow(self) -> C:
        self._size += 1
        try:
            return await self._open()
        except BaseException:
            self._size -= 1
            self._wake(None)
            raise

    async def _wait(self) -> C | None:
        """Wait for a released connection (returned) or for a free slot (None)."""
        waiter: asyncio.Future[C | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self.timeout):
                return await waiter
        except BaseException as exc:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            elif waiter.done() and not waiter.cancelled():
                # Handed a connection (or a free slot) just as we timed out or were
                # cancelled: pass it on instead of losing it.
                conn = waiter.result()
                if conn is None:
                    self._wake(None)
                else:
                    self.release(conn)
            if isinstance(exc, TimeoutError):
                raise OperationalError(
                    f"Timed out after {self.timeout} s waiting for a connection to "
                    f"{self._describe}: all {self.max_size} are in use. Raise max_size or "
                    f"pool_timeout, or release connections sooner (a task that waits for "
                    f"another task inside a transaction holds its connection meanwhile)."
                ) from None
            raise

    def release(self, conn: C, *, discard: bool = False) -> None:
        """Give a connection back; `discard=True` closes it (it is broken or in a bad state)."""
        if discard or self._closed or self._is_closed(conn):
            self._forget(conn)
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        self._idle.append(conn)

    def _forget(self, conn: C) -> None:
        self._size -= 1
        task = asyncio.get_running_loop().create_task(self._close_quietly(conn))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        self._wake(None)

    def _wake(self, value: C | None) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(value)
                return

    async def _close_quietly(self, conn: C) -> None:
        with contextlib.suppress(Exception):
            await self._close(conn)

    async def close(self) -> None:
        """Close idle connections now and refuse new acquisitions."""
        self._closed = True
        while self._idle:
            conn = self._idle.pop()
            self._size -= 1
            await self._close_quietly(conn)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)


def url_options(url: DatabaseURL) -> dict[str, Any]:
    """The URL's query string as options; a repeated key keeps its last value."""
    options: dict[str, Any] = {}
    for key, value in url.options.items():
        options[key] = value[-1] if isinstance(value, tuple) else value
    return options


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def flag_option(url: DatabaseURL, name: str, value: Any) -> bool:
    """A yes/no option given as a keyword (a bool) or in the URL's query string (text).

    `?prepared_statements=false` means False: a non-empty string is not taken as True.
    """
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigurationError(
        f"Bad option {name}={value!r} for {url}: use true or false (also 1/0, yes/no, on/off)."
    )


def int_option(url: DatabaseURL, name: str, value: Any) -> int:
    """An integer option given as a keyword or in the URL's query string."""
    if isinstance(value, bool):
        raise ConfigurationError(f"Bad option {name}={value!r} for {url}: use an integer.")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"Bad option {name}={value!r} for {url}: use an integer."
        ) from None


def pool_settings(url: DatabaseURL, options: dict[str, Any]) -> tuple[int, int, float | None]:
    """(min_size, max_size, timeout) from `options`; bad values are a ConfigurationError."""
    sqlite_memory = url.backend == "sqlite" and (url.database or ":memory:") in (":memory:", "")
    try:
        max_size = int(options.get("max_size", 1 if sqlite_memory else 10))
        min_size = int(options.get("min_size", 1))
        timeout_value = options.get("pool_timeout", 30.0)
        timeout = None if timeout_value in (None, "none", "None") else float(timeout_value)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"Bad pool option for {url}: {exc}. min_size and max_size are integers, "
            f"pool_timeout is a number of seconds."
        ) from None
    if sqlite_memory:
        # One connection holds the whole in-memory database; a second would be a new one.
        max_size = 1
    if max_size < 1 or min_size < 0 or min_size > max_size:
        raise ConfigurationError(
            f"Bad pool sizes for {url}: min_size={min_size}, max_size={max_size}; "
            f"need 0 <= min_size <= max_size and max_size >= 1."
        )
    return min(min_size, max_size), max_size, timeout
