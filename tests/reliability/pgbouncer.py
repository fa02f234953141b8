"""PgBouncer for the reliability suite: installed from Debian's package when missing, started
on a free loopback port in transaction pooling mode in front of the test PostgreSQL, stopped at
the end.

Pre-install it to skip the install step: `apt-get install -y pgbouncer` (as root). Without CI
a machine where it cannot be installed or started skips the PgBouncer tests, naming the reason;
with CI=true that is a failure. Set MINORM_KEEP_PGBOUNCER=1 to keep its directory (config and
log) after the run.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from minorm.url import DatabaseURL

INSTALL_TIMEOUT = 300  # seconds for apt-get (a fresh machine may need `apt-get update` first)
START_TIMEOUT = 15
CANDIDATES = ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer")


class PgBouncerUnavailable(RuntimeError):
    """PgBouncer could not be installed or started; the message says why."""


def find_binary() -> str | None:
    found = shutil.which("pgbouncer")
    if found:
        return found
    return next((path for path in CANDIDATES if os.access(path, os.X_OK)), None)


def install() -> str:
    """Return the pgbouncer binary, installing Debian's package first if needed (as root).

    pytest-xdist workers may arrive here together: a lock file makes them install one at a
    time, and apt itself waits for its own lock (another process may be using it).
    """
    binary = find_binary()
    if binary:
        return binary
    if os.geteuid() != 0:
        raise PgBouncerUnavailable(
            "pgbouncer is not installed and the tests are not running as root: install it "
            "with `sudo apt-get install -y pgbouncer`."
        )
    if shutil.which("apt-get") is None:
        raise PgBouncerUnavailable("pgbouncer is not installed and there is no apt-get.")
    lock_path = Path(tempfile.gettempdir()) / "minorm-pgbouncer-install.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        binary = find_binary()
        if binary:
            return binary
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        command = [
            "apt-get",
            "-o",
            "DPkg::Lock::Timeout=120",
            "install",
            "-y",
            "--no-install-recommends",
            "pgbouncer",
        ]
        result = _run(command, env)
        if result.returncode != 0:
            # The package lists may be missing or stale: update once, then try again.
            _run(["apt-get", "-o", "DPkg::Lock::Timeout=120", "update"], env)
            result = _run(command, env)
        binary = find_binary()
        if binary is None:
            raise PgBouncerUnavailable(
                f"`{' '.join(command)}` failed (exit {result.returncode}): "
                f"{(result.stdout + result.stderr)[-2000:]}"
            )
        return binary


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise PgBouncerUnavailable(
            f"`{' '.join(command)}` did not finish in {INSTALL_TIMEOUT} s"
        ) from exc


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class PgBouncer:
    """A running PgBouncer; `url(server_url)` routes a PostgreSQL URL through it."""

    port: int
    directory: Path

    def url(self, server_url: str) -> str:
        """`server_url` through PgBouncer, with prepared statements off (transaction pooling)."""
        routed = DatabaseURL(server_url).replace(hostname="127.0.0.1", port=self.port)
        text = routed.render(hide_password=False)
        separator = "&" if "?" in text else "?"
        return f"{text}{separator}prepared_statements=false"

    def log(self) -> str:
        path = self.directory / "pgbouncer.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


@contextlib.contextmanager
def running(server_url: str) -> Iterator[PgBouncer]:
    """Start PgBouncer in front of the server of `server_url`; stop it when the block ends."""
    binary = install()
    server = DatabaseURL(server_url)
    directory = Path(tempfile.mkdtemp(prefix="minorm-pgbouncer-"))
    directory.chmod(0o755)
    user = server.username or "postgres"
    port = free_port()
    (directory / "users.txt").write_text(f'"{user}" ""\n')
    (directory / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={server.hostname or '127.0.0.1'} port={server.port or 5432}\n"
        "[pgbouncer]\n"
        "listen_addr = 127.0.0.1\n"
        f"listen_port = {port}\n"
        "unix_socket_dir =\n"
        "auth_type = trust\n"
        f"auth_file = {directory / 'users.txt'}\n"
        "pool_mode = transaction\n"
        "max_client_conn = 200\n"
        "default_pool_size = 10\n"
        # Give idle server connections back soon: the PostgreSQL server is shared.
        "server_idle_timeout = 10\n"
        # A server login that fails (the fault tests kill sessions, some mid-login) makes
        # PgBouncer wait this long before the next attempt; the default is 15 s.
        "server_login_retry = 1\n"
        # A client waiting for a server connection gets an error, not an endless wait.
        "query_wait_timeout = 60\n"
        # Check a server connection before lending it, so one killed while idle is replaced
        # instead of failing the next client statement.
        "server_check_delay = 0\n"
        "ignore_startup_parameters = extra_float_digits,options\n"
        f"logfile = {directory / 'pgbouncer.log'}\n"
        f"pidfile = {directory / 'pgbouncer.pid'}\n"
        + (_as_user(directory) if os.geteuid() == 0 else "")
    )
    process = subprocess.Popen(
        [binary, str(directory / "pgbouncer.ini")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    bouncer = PgBouncer(port, directory)
    try:
        _wait_until_listening(process, bouncer)
        yield bouncer
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()
        if not os.environ.get("MINORM_KEEP_PGBOUNCER"):
            shutil.rmtree(directory, ignore_errors=True)


def _as_user(directory: Path) -> str:
    # PgBouncer refuses to run as root; as root it may switch to another user at start-up.
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        account = pwd.getpwnam("nobody")
    os.chown(directory, account.pw_uid, account.pw_gid)
    for path in directory.iterdir():
        os.chown(path, account.pw_uid, account.pw_gid)
    return f"user = {account.pw_name}\n"


def _wait_until_listening(process: subprocess.Popen[bytes], bouncer: PgBouncer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise PgBouncerUnavailable(
                f"pgbouncer exited with code {process.returncode}: {stderr[-2000:]}{bouncer.log()}"
            )
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", bouncer.port)) == 0:
                return
        time.sleep(0.05)
    raise PgBouncerUnavailable(
        f"pgbouncer did not listen on 127.0.0.1:{bouncer.port} within {START_TIMEOUT} s: "
        f"{bouncer.log()}"
    )
