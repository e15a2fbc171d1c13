"""Where the metadata lives: resolve a workspace location, connect, migrate, translate errors.

A location is a folder (SQLite file ``mlpilot.db`` inside it; the monitoring issues add the
DuckDB event store ``events.duckdb`` beside it) or a SQLAlchemy URL such as
``postgresql+psycopg://user@host/db`` for a team.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, NoSuchModuleError, OperationalError

from mlpilot.errors import (
    CorruptWorkspaceError,
    DatabaseUnreachableError,
    ValidationError,
    WorkspaceError,
)

if TYPE_CHECKING:
    from alembic.config import Config

# The newest migration in migrations/versions (a test keeps the two in step). Knowing it here
# lets an up-to-date workspace open without importing Alembic, which costs ~0.1 s per command.
SCHEMA_REVISION = "0002"
DEFAULT_HOME = ".mlpilot"
DB_FILE = "mlpilot.db"
EVENTS_FILE = "events.duckdb"
_MIGRATIONS = Path(__file__).with_name("migrations")


@dataclass(frozen=True)
class Location:
    """A resolved workspace: the metadata URL and the local folder for files."""

    url: str
    home: Path

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded default (a SQLite file in ``home``)."""
        return self.url.startswith("sqlite")

    @property
    def events_path(self) -> Path:
        """Where the analytical event store (DuckDB) of the monitoring issues will live."""
        return self.home / EVENTS_FILE

    def display(self) -> str:
        """The URL without its password, for messages."""
        return make_url(self.url).render_as_string(hide_password=True)


def resolve(location: str | Path | None = None) -> Location:
    """Resolve a folder, a URL, or (None) ``MLPILOT_DB`` / ``MLPILOT_HOME`` / ``./.mlpilot``."""
    home = Path(os.environ.get("MLPILOT_HOME") or DEFAULT_HOME)
    if location is None:
        location = os.environ.get("MLPILOT_DB") or home
    text = str(location)
    if "://" in text:
        try:
            make_url(text)
        except ArgumentError:
            raise ValidationError(f"invalid database URL {text!r}") from None
        return Location(text, home.resolve())
    folder = Path(text).expanduser().resolve()
    return Location(f"sqlite:///{folder / DB_FILE}", folder)


def connect(location: Location, *, create: bool) -> Engine:
    """Open the metadata database, creating (when allowed) and migrating it to the newest schema."""
    if location.is_sqlite:
        db_file = location.home / DB_FILE
        if not db_file.exists():
            if not create:
                raise WorkspaceError(
                    f"no mlpilot workspace at {location.home}; run 'mlpilot init' there, "
                    "or set MLPILOT_HOME / MLPILOT_DB"
                )
            location.home.mkdir(parents=True, exist_ok=True)
    engine = _engine(location)
    try:
        migrate(engine)
    except OperationalError as exc:
        engine.dispose()
        if location.is_sqlite:
            raise CorruptWorkspaceError(_corrupt(location, exc)) from None
        raise DatabaseUnreachableError(
            f"cannot reach the database {location.display()}: {_first_line(exc)}"
        ) from None
    except DatabaseError as exc:
        engine.dispose()
        raise CorruptWorkspaceError(_corrupt(location, exc)) from None
    except BaseException:
        engine.dispose()
        raise
    return engine


def _engine(location: Location) -> Engine:
    options: dict[str, Any] = {}
    if location.is_sqlite:
        options["connect_args"] = {"timeout": 30}
    elif make_url(location.url).get_backend_name() == "postgresql":
        options["connect_args"] = {"connect_timeout": 5}
        options["pool_pre_ping"] = True
    try:
        engine = create_engine(location.url, **options)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise WorkspaceError(
            f"no driver for {location.display()} ({exc}); for PostgreSQL install mlpilot[postgres]"
        ) from None
    except ArgumentError as exc:
        raise ValidationError(f"invalid database URL {location.display()}: {exc}") from None
    if location.is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def schema_revisions(connection: Connection) -> set[str]:
    """The schema revision(s) the database is stamped with; empty for a new database."""
    if not inspect(connection).has_table("alembic_version"):
        return set()
    return set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (default: the newest) unless it is there already."""
    with engine.begin() as connection:
        current = schema_revisions(connection)
        if revision == "head" and current == {SCHEMA_REVISION}:
            return
    from alembic import command
    from alembic.script import ScriptDirectory

    config = _alembic_config()
    script = ScriptDirectory.from_config(config)
    with engine.begin() as connection:
        current = schema_revisions(connection)
        if not current and _foreign_tables(connection):
            raise CorruptWorkspaceError(
                f"{engine.url.render_as_string(hide_password=True)} holds tables but no "
                "mlpilot schema version; it is not an mlpilot workspace"
            )
        known = {rev.revision for rev in script.walk_revisions()}
        if current - known:
            raise CorruptWorkspaceError(
                f"the workspace has schema revision {', '.join(sorted(current - known))}, "
                "written by a newer mlpilot; upgrade mlpilot to open it"
            )
        target = set(script.get_heads()) if revision == "head" else {revision}
        if current == target:
            return
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _foreign_tables(connection: Any) -> list[str]:
    return [name for name in inspect(connection).get_table_names() if name != "alembic_version"]


def _corrupt(location: Location, exc: Exception) -> str:
    return (
        f"the workspace database {location.display()} cannot be read "
        f"({_first_line(exc)}); it is not an mlpilot workspace or it is damaged"
    )


def _first_line(exc: Exception) -> str:
    original = getattr(exc, "orig", None) or exc
    return str(original).strip().splitlines()[0] if str(original).strip() else type(exc).__name__
