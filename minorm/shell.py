"""`minorm shell`: an interactive prompt where `await User.query.count()` just works.

The namespace holds the registry (`registry`), its main database (`database`), every model by
class name, `Q`, and the extra databases by name (`databases`). Every database of the registry
is connected before the first prompt and disconnected after the last.

Two kernels: IPython (when installed) with its own top-level `await`, and the standard
library's `code.InteractiveConsole` compiled with `ast.PyCF_ALLOW_TOP_LEVEL_AWAIT`, whose
statements run on one event loop kept in a background thread (like `python -m asyncio`).
"""

from __future__ import annotations

import ast
import asyncio
import code
import concurrent.futures
import importlib.util
import inspect
import sys
import threading
import types
from collections.abc import Coroutine
from typing import Any, Literal, TypeVar

from minorm.exceptions import ConfigurationError
from minorm.lookups import Q
from minorm.registry import Registry

Kernel = Literal["auto", "ipython", "python"]
KERNELS: tuple[Kernel, ...] = ("auto", "ipython", "python")
T = TypeVar("T")


def shell_namespace(registry: Registry) -> dict[str, Any]:
    """The names the shell starts with."""
    namespace: dict[str, Any] = {
        "registry": registry,
        "database": registry.database,
        "databases": dict(registry.extra),
        "Q": Q,
    }
    namespace.update(registry.models)
    return namespace


def banner(registry: Registry) -> str:
    models = ", ".join(sorted(registry.models)) or "none"
    return (
        f"minorm shell on {registry.database.url} (connected).\n"
        f"Models: {models}. Also: registry, database, databases, Q.\n"
        "Top-level await works: `await Model.query.count()`."
    )


def run_shell(registry: Registry, kernel: Kernel = "auto") -> None:
    """Run the interactive shell for `registry` until its input ends (Ctrl-D or `exit()`).

    `kernel` is "ipython", "python" (the standard console) or "auto" (IPython when installed).
    Raises ConfigurationError for "ipython" when IPython is not installed, or an unknown kernel.
    """
    if kernel not in KERNELS:
        raise ConfigurationError(
            f"Unknown shell kernel {kernel!r}; use one of {', '.join(KERNELS)}."
        )
    has_ipython = importlib.util.find_spec("IPython") is not None
    if kernel == "ipython" and not has_ipython:
        raise ConfigurationError(
            "The ipython kernel needs IPython: `pip install ipython`, or use --kernel python."
        )
    if kernel == "ipython" or (kernel == "auto" and has_ipython):
        _run_ipython(registry)
    else:
        _run_console(registry)


# -- the standard console --------------------------------------------------------------------


class AsyncConsole(code.InteractiveConsole):
    """An interactive console whose statements may `await`; they run on `loop`."""

    def __init__(self, namespace: dict[str, Any], loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(namespace, filename="<minorm shell>")
        self.compile.compiler.flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        self.loop = loop

    def runcode(self, code: types.CodeType) -> None:
        function = types.FunctionType(code, self.locals)
        try:
            result = function()
            if inspect.iscoroutine(result):
                # A statement with a top-level await compiles to a coroutine: run it on the loop.
                future = asyncio.run_coroutine_threadsafe(result, self.loop)
                try:
                    future.result()
                except KeyboardInterrupt:
                    future.cancel()
                    raise
        except SystemExit:
            raise
        except BaseException:
            self.showtraceback()


def _run_console(registry: Registry) -> None:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="minorm-shell-loop", daemon=True)
    thread.start()

    def on_loop(coroutine: Coroutine[Any, Any, T]) -> T:
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(coroutine, loop)
        return future.result()

    namespace = shell_namespace(registry)
    try:
        on_loop(registry.connect())
        try:
            _enable_completion(namespace)
            console = AsyncConsole(namespace, loop)
            console.interact(banner=banner(registry), exitmsg="")
        finally:
            on_loop(registry.disconnect())
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


def _enable_completion(namespace: dict[str, Any]) -> None:
    if not sys.stdin.isatty():
        return
    try:
        import readline
        import rlcompleter
    except ImportError:  # no readline on this platform: the console works without it
        return
    readline.set_completer(rlcompleter.Completer(namespace).complete)
    readline.parse_and_bind("tab: complete")


# -- IPython ---------------------------------------------------------------------------------


def _run_ipython(registry: Registry) -> None:
    from IPython.core.async_helpers import get_asyncio_loop
    from IPython.terminal.ipapp import TerminalIPythonApp
    from traitlets.config import Config

    config = Config()
    config.TerminalInteractiveShell.autoawait = True
    config.TerminalInteractiveShell.loop_runner = "asyncio"
    config.TerminalInteractiveShell.confirm_exit = False
    config.TerminalInteractiveShell.banner2 = banner(registry) + "\n"
    app = TerminalIPythonApp.instance(config=config, user_ns=shell_namespace(registry))
    app.initialize(argv=[])  # type: ignore[no-untyped-call]  # IPython is not annotated here
    # IPython's asyncio runner awaits every cell on this one loop, so the connections opened
    # here serve the whole session.
    loop = get_asyncio_loop()  # type: ignore[no-untyped-call]  # IPython is not annotated here
    loop.run_until_complete(registry.connect())
    try:
        app.start()  # type: ignore[no-untyped-call]  # IPython is not annotated here
    finally:
        loop.run_until_complete(registry.disconnect())
        TerminalIPythonApp.clear_instance()
