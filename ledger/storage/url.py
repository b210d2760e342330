"""Turn one database URL into the settings of eventsourcing's recorder (and of SQLAlchemy, for projections)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import msgspec

from ledger.errors import BadInput

HELP = "use sqlite:///PATH/TO/FILE.db or postgresql://USER@HOST:PORT/DATABASE[?schema=NAME]"
_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class Database(msgspec.Struct, frozen=True, kw_only=True):
    """Where the ledger lives: an SQLite file or a PostgreSQL database (and schema)."""

    kind: str
    path: str = ""
    host: str = ""
    port: int = 5432
    user: str = ""
    password: str = ""
    name: str = ""
    schema: str = "public"

    @property
    def display(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.path}"
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.name}?schema={self.schema}"


def parse(url: str) -> Database:
    """Parse a database URL, or say in one sentence what is wrong with it."""
    if not isinstance(url, str) or "://" not in url:
        raise BadInput(f"The database URL {url!r} is not understood; {HELP}.")
    scheme = url.split("://", 1)[0].lower()
    if scheme == "sqlite":
        path = url[len("sqlite:///") :] if url.lower().startswith("sqlite:///") else ""
        if not path or path.startswith("?"):
            raise BadInput(f"The SQLite URL {url!r} names no file; {HELP}.")
        return Database(kind="sqlite", path=str(Path(unquote(path)).expanduser()))
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        parts = urlsplit(url)
        try:
            port = parts.port or 5432
        except ValueError:
            raise BadInput(f"The port in database URL {url!r} is not a number; {HELP}.") from None
        name = parts.path.lstrip("/")
        if not parts.hostname or not name:
            raise BadInput(f"The PostgreSQL URL {url!r} needs a host and a database name; {HELP}.")
        schema = parse_qs(parts.query).get("schema", ["public"])[0]
        if not _SCHEMA.match(schema):
            raise BadInput(f"The schema {schema!r} is not a plain lower-case name; use letters, digits and _.")
        return Database(
            kind="postgresql",
            host=parts.hostname,
            port=port,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            name=unquote(name),
            schema=schema,
        )
    raise BadInput(f"The database URL {url!r} has an unknown scheme {scheme!r}; {HELP}.")


def recorder_env(db: Database) -> dict[str, str]:
    """Environment for eventsourcing's infrastructure factory (our chained recorders, our mapper)."""
    env = {
        "MAPPER_TOPIC": "ledger.mapper:MsgspecMapper",
        "TRANSCODER_TOPIC": "ledger.mapper:NullTranscoder",
        "IS_SNAPSHOTTING_ENABLED": "no",
        # Pinned, so that a stray variable in the environment cannot change how events are stored.
        "CIPHER_TOPIC": "",
        "CIPHER_KEY": "",
        "COMPRESSOR_TOPIC": "",
    }
    if db.kind == "sqlite":
        env |= {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "APPLICATION_RECORDER_TOPIC": "ledger.storage.sqlite:ChainedSQLiteRecorder",
            "SQLITE_DBNAME": db.path,
            "SQLITE_LOCK_TIMEOUT": "5",
        }
    else:
        env |= {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "APPLICATION_RECORDER_TOPIC": "ledger.storage.postgres:ChainedPostgresRecorder",
            "POSTGRES_DBNAME": db.name,
            "POSTGRES_HOST": db.host,
            "POSTGRES_PORT": str(db.port),
            "POSTGRES_USER": db.user,
            "POSTGRES_PASSWORD": db.password,
            "POSTGRES_SCHEMA": db.schema,
            "POSTGRES_LOCK_TIMEOUT": "5",
            "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "10",
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_POOL_SIZE": "2",
            "POSTGRES_ENABLE_DB_FUNCTIONS": "no",
        }
    return env


def sqlalchemy_url(db: Database) -> str:
    """The same database as an SQLAlchemy URL (projections use the search path for the schema)."""
    if db.kind == "sqlite":
        return f"sqlite:///{db.path}"
    from urllib.parse import quote

    auth = quote(db.user, safe="") + (":" + quote(db.password, safe="") if db.password else "")
    return f"postgresql+psycopg://{auth}@{db.host}:{db.port}/{quote(db.name, safe='')}"
