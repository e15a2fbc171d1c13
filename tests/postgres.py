"""Throwaway PostgreSQL clusters for the test suite.

This is a helper module, not a conftest: import it from ``tests/conftest.py``::

    from tests.postgres import PostgresCluster, start_cluster

``start_cluster(base_dir)`` runs ``initdb`` and ``pg_ctl start`` for a private cluster that
listens on 127.0.0.1 on a free port, with trust authentication for the ``postgres`` role, and
creates one database.  ``cluster.url`` is a SQLAlchemy URL for that database,
``cluster.create_database(name)`` makes another (fresh, empty) one and returns its URL, and
``cluster.stop()`` shuts the server down and deletes its files.

If ``MLPILOT_TEST_POSTGRES_URL`` is set, no cluster is started: the returned object uses that
server instead, and ``stop()`` leaves it alone.

PostgreSQL refuses to run as root.  When the tests run as root (as in CI), the server binaries
are run as the ``postgres`` system user through ``runuser`` (the user is created if missing),
and the cluster lives in a directory that user can reach.

Missing PostgreSQL binaries are an error, never a skip: ``make test`` installs them.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shlex
import shutil
import socket
import stat
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import URL, make_url

__all__ = [
    "ENV_URL",
    "PostgresCluster",
    "find_bindir",
    "start_cluster",
]

ENV_URL = "MLPILOT_TEST_POSTGRES_URL"
"""Environment variable naming an existing server to use instead of a throwaway cluster."""

DEFAULT_DATABASE = "mlpilot_test"
SUPERUSER = "postgres"
SYSTEM_USER = "postgres"
_HOST = "127.0.0.1"
_VERSIONED_BINDIRS = "/usr/lib/postgresql/*/bin"
_START_ATTEMPTS = 3
_TIMEOUT_SECONDS = 60
# A Unix socket path may not exceed ~107 bytes; keep the socket directory well below that.
_MAX_SOCKET_DIR_LEN = 80


class PostgresCluster:
    """A PostgreSQL server for tests: a throwaway cluster, or an existing server."""

    def __init__(
        self,
        url: URL,
        *,
        cluster_dir: Path | None = None,
        socket_dir: Path | None = None,
        bindir: Path | None = None,
        run_as: str | None = None,
    ) -> None:
        self._url = url
        self._cluster_dir = cluster_dir
        self._socket_dir = socket_dir
        self._bindir = bindir
        self._run_as = run_as
        self._stopped = cluster_dir is None

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the default database (``postgresql+psycopg://...``)."""
        return _render(self._url)

    @property
    def host(self) -> str | None:
        return self._url.host

    @property
    def port(self) -> int | None:
        return self._url.port

    @property
    def database(self) -> str | None:
        return self._url.database

    @property
    def owned(self) -> bool:
        """True if this object started the server (and ``stop()`` will shut it down)."""
        return self._cluster_dir is not None

    @property
    def data_dir(self) -> Path | None:
        """The cluster's data directory, or None when using an existing server."""
        return None if self._cluster_dir is None else self._cluster_dir / "data"

    def url_for(self, database: str) -> str:
        """SQLAlchemy URL of another database on the same server (which need not exist)."""
        return _render(self._url.set(database=database))

    def create_database(self, name: str) -> str:
        """Create a fresh, empty database and return its SQLAlchemy URL.

        A database of that name that already exists is dropped first, so the result is always
        empty, even against a reused ``MLPILOT_TEST_POSTGRES_URL`` server.
        """
        if not name:
            raise ValueError("database name must not be empty")
        ident = sql.Identifier(name)
        with psycopg.connect(self._conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(ident))
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop a database (if it exists), disconnecting any sessions still using it."""
        ident = sql.Identifier(name)
        with psycopg.connect(self._conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))

    def stop(self) -> None:
        """Stop the server and delete its files. Idempotent; a no-op for an existing server."""
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        assert self._cluster_dir is not None
        assert self._bindir is not None
        try:
            _run(
                [
                    str(self._bindir / "pg_ctl"),
                    "-D",
                    str(self._cluster_dir / "data"),
                    "-m",
                    "fast",
                    "-w",
                    "-t",
                    str(_TIMEOUT_SECONDS),
                    "stop",
                ],
                run_as=self._run_as,
                cwd=self._cluster_dir,
                check=False,
            )
        finally:
            shutil.rmtree(self._cluster_dir, ignore_errors=True)
            if self._socket_dir is not None and self._socket_dir != self._cluster_dir:
                shutil.rmtree(self._socket_dir, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        kind = "throwaway" if self.owned else "external"
        return f"PostgresCluster({kind}, {self._url.render_as_string(hide_password=True)})"

    def _conninfo(self) -> str:
        """libpq connection string for the server's maintenance database."""
        url = self._url
        kwargs: dict[str, str] = {"dbname": "postgres"}
        if url.host:
            kwargs["host"] = url.host
        if url.port is not None:
            kwargs["port"] = str(url.port)
        if url.username:
            kwargs["user"] = url.username
        if url.password:
            kwargs["password"] = url.password
        for key, value in url.query.items():
            kwargs[key] = value if isinstance(value, str) else value[-1]
        return make_conninfo(**kwargs)


def start_cluster(base_dir: Path, database: str = DEFAULT_DATABASE) -> PostgresCluster:
    """Start a throwaway PostgreSQL cluster under ``base_dir`` with one database.

    ``base_dir`` must exist.  When running as root and ``base_dir`` is not reachable by the
    ``postgres`` system user (pytest's ``tmp_path`` is not), the cluster goes in a fresh
    directory under the system temporary directory instead.  The caller must call ``stop()``
    (a safety net also stops it when the interpreter exits).

    If ``MLPILOT_TEST_POSTGRES_URL`` is set, nothing is started: the returned object uses that
    server, ``database`` is created there (fresh), and ``stop()`` does nothing.
    """
    external = os.environ.get(ENV_URL, "").strip()
    if external:
        server = PostgresCluster(_external_url(external))
        server._url = make_url(server.create_database(database))
        return server

    bindir = find_bindir()
    run_as: str | None = None
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:
        owner = _ensure_system_user()
        run_as = owner.pw_name

    parent = Path(base_dir).resolve()
    if owner is not None and not _traversable_by(parent, owner):
        parent = Path(tempfile.gettempdir())
    cluster_dir = Path(tempfile.mkdtemp(prefix="mlpilot-pg-", dir=parent))
    socket_dir = cluster_dir
    if len(str(socket_dir)) > _MAX_SOCKET_DIR_LEN:
        socket_dir = Path(tempfile.mkdtemp(prefix="mlpilot-pgs-", dir=tempfile.gettempdir()))
    for path in {cluster_dir, socket_dir}:
        path.chmod(0o755 if owner is not None else 0o700)
        if owner is not None:
            os.chown(path, owner.pw_uid, owner.pw_gid)

    data_dir = cluster_dir / "data"
    log_file = cluster_dir / "server.log"
    cluster: PostgresCluster | None = None
    try:
        _run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            run_as=run_as,
            cwd=cluster_dir,
        )
        port = _start_server(bindir, data_dir, socket_dir, log_file, run_as)
        url = URL.create(
            "postgresql+psycopg",
            username=SUPERUSER,
            host=_HOST,
            port=port,
            database="postgres",
        )
        cluster = PostgresCluster(
            url, cluster_dir=cluster_dir, socket_dir=socket_dir, bindir=bindir, run_as=run_as
        )
        atexit.register(cluster.stop)
        cluster._url = make_url(cluster.create_database(database))
    except BaseException:
        if cluster is not None:
            cluster.stop()
        else:
            shutil.rmtree(cluster_dir, ignore_errors=True)
            if socket_dir != cluster_dir:
                shutil.rmtree(socket_dir, ignore_errors=True)
        raise
    return cluster


def find_bindir() -> Path:
    """Directory holding ``initdb`` and ``pg_ctl``: from PATH, else the newest
    ``/usr/lib/postgresql/<version>/bin``.  Raises RuntimeError if there is none."""
    candidates: list[Path] = []
    on_path = shutil.which("pg_ctl")
    if on_path is not None:
        candidates.append(Path(on_path).resolve().parent)
    versioned = [Path(p) for p in glob.glob(_VERSIONED_BINDIRS)]
    versioned.sort(key=_version_key, reverse=True)
    candidates.extend(versioned)
    for bindir in candidates:
        if all(_is_executable(bindir / name) for name in ("initdb", "pg_ctl", "postgres")):
            return bindir
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found in PATH or in "
        f"{_VERSIONED_BINDIRS}. Run the tests with `make test`, which installs PostgreSQL "
        "(as root), or install the `postgresql` package; or set "
        f"{ENV_URL} to use an existing server."
    )


def _start_server(
    bindir: Path, data_dir: Path, socket_dir: Path, log_file: Path, run_as: str | None
) -> int:
    """Start the server on a free port (retrying if another process grabs the port first)."""
    failure = ""
    for _ in range(_START_ATTEMPTS):
        port = _free_port()
        options = f"-h {_HOST} -p {port} -k {shlex.quote(str(socket_dir))} -F"
        result = _run(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data_dir),
                "-l",
                str(log_file),
                "-o",
                options,
                "-w",
                "-t",
                str(_TIMEOUT_SECONDS),
                "start",
            ],
            run_as=run_as,
            cwd=data_dir.parent,
            check=False,
        )
        if result.returncode == 0:
            return port
        failure = _describe(result) + _tail(log_file)
        port_taken = "already in use" in failure or "could not bind" in failure
        if not port_taken:
            break
    raise RuntimeError(f"could not start PostgreSQL in {data_dir}:\n{failure}")


def _run(
    argv: list[str],
    *,
    run_as: str | None,
    cwd: Path,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    if run_as is not None:
        runuser = shutil.which("runuser")
        if runuser is None:
            raise RuntimeError("running as root needs `runuser` (util-linux) to run PostgreSQL")
        argv = [runuser, "-u", run_as, "--", *argv]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    result = subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_SECONDS * 2,
        check=False,
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"PostgreSQL command failed: {_describe(result)}")
    return result


def _ensure_system_user() -> pwd.struct_passwd:
    """The ``postgres`` system user, created (we are root) if it does not exist."""
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    result = subprocess.run(
        [useradd, "--system", "--user-group", SYSTEM_USER],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        raise RuntimeError(
            f"running as root: could not create the `{SYSTEM_USER}` system user to run "
            f"PostgreSQL as: {_describe(result)}"
        ) from None


def _traversable_by(path: Path, user: pwd.struct_passwd) -> bool:
    """Whether ``user`` can reach ``path`` (search permission on it and every ancestor)."""
    groups = {user.pw_gid, *os.getgrouplist(user.pw_name, user.pw_gid)}
    for directory in (path, *path.parents):
        try:
            st = directory.stat()
        except OSError:
            return False
        if st.st_uid == user.pw_uid:
            allowed = bool(st.st_mode & stat.S_IXUSR)
        elif st.st_gid in groups:
            allowed = bool(st.st_mode & stat.S_IXGRP)
        else:
            allowed = bool(st.st_mode & stat.S_IXOTH)
        if not allowed:
            return False
    return True


def _external_url(raw: str) -> URL:
    url = make_url(raw)
    if url.get_backend_name() != "postgresql":
        raise RuntimeError(f"{ENV_URL} must be a postgresql URL, not {url.drivername!r}")
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _version_key(bindir: Path) -> tuple[int, ...]:
    version = bindir.parent.name
    return tuple(int(part) for part in re.findall(r"\d+", version)) or (0,)


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _describe(result: subprocess.CompletedProcess[str]) -> str:
    output = "\n".join(part.strip() for part in (result.stdout, result.stderr) if part.strip())
    return f"`{' '.join(map(str, result.args))}` exited with {result.returncode}\n{output}"


def _tail(log_file: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        text = log_file.read_text(errors="replace")
        return "\n--- server log (tail) ---\n" + "\n".join(text.splitlines()[-lines:])
    return ""
