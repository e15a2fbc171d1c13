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
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    DataError,
    NoSuchModuleError,
    OperationalError,
)

from mlpilot.errors import (
    CorruptWorkspaceError,
    DatabaseUnreachableError,
    MlpilotError,
    ValidationError,
    WorkspaceError,
)

if TYPE_CHECKING:
    from alembic.config import Config

# The newest migration in migrations/versions (a test keeps the two in step). Knowing it here
# lets an up-to-date workspace open without importing Alembic, which costs ~0.1 s per command.
SCHEMA_REVISION = "0005"
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
        """True for the embedded default (a SQLite file, by default in ``home``)."""
        return self.url.startswith("sqlite")

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite database file, or None (another database, or SQLite in memory)."""
        database = make_url(self.url).database if self.is_sqlite else None
        return Path(database) if database and database != ":memory:" else None

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
            make_url(text).port  # noqa: B018 - parses the port, which may be malformed
        except (ArgumentError, ValueError):
            raise ValidationError(f"invalid database URL {text!r}") from None
        located = Location(text, home.expanduser().resolve())
        # A SQLite URL names its own file: keep the workspace's files beside it.
        db_file = located.sqlite_file
        return Location(text, db_file.resolve().parent) if db_file else located
    folder = Path(text).expanduser().resolve()
    return Location(f"sqlite:///{folder / DB_FILE}", folder)


def connect(location: Location, *, create: bool) -> Engine:
    """Open the metadata database, creating (when allowed) and migrating it to the newest schema."""
    db_file = location.sqlite_file
    if db_file is not None and not db_file.exists():
        if not create:
            raise WorkspaceError(
                f"no mlpilot workspace at {db_file.parent if db_file.name == DB_FILE else db_file}"
                "; run 'mlpilot init' there, or set MLPILOT_HOME / MLPILOT_DB"
            )
        try:
            db_file.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file in the way, no permission, read-only disk
            raise WorkspaceError(
                f"cannot create the workspace folder {db_file.parent}: {exc.strerror or exc}"
            ) from None
    engine = _engine(location)
    try:
        migrate(engine)
    except BaseException as exc:
        engine.dispose()
        if isinstance(exc, DatabaseError):
            raise database_error(location.display(), exc) from None
        raise
    return engine


def database_error(display: str, exc: DatabaseError) -> MlpilotError:
    """The mlpilot error for a driver error: locked, unreachable, or not a (sound) workspace."""
    message = _first_line(exc)
    if isinstance(exc, DataError):  # a value the database refuses that validation let through
        return ValidationError(f"the database {display} refused a value: {message}")
    if isinstance(exc, OperationalError):
        if "locked" in message:
            return WorkspaceError(
                f"the workspace database {display} is locked by another process; try again"
            )
        if not display.startswith("sqlite"):
            return DatabaseUnreachableError(f"cannot reach the database {display}: {message}")
    return CorruptWorkspaceError(
        f"the workspace database {display} cannot be read ({message}); "
        "it is not an mlpilot workspace or it is damaged"
    )


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
        hint = "; install mlpilot[postgres]" if location.url.startswith("postgres") else ""
        raise WorkspaceError(f"no database driver for {location.display()} ({exc}){hint}") from None
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


def _first_line(exc: Exception) -> str:
    original = getattr(exc, "orig", None) or exc
    return str(original).strip().splitlines()[0] if str(original).strip() else type(exc).__name__
