"""The SQLAlchemy engine for projections, on the same database (and schema) as the events."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Engine, create_engine, event

from ledger.storage.url import parse, sqlalchemy_url


@cache
def engine_for(url: str) -> Engine:
    """One engine per ledger URL. On SQLite, write transactions begin IMMEDIATE (no lock upgrades)."""
    db = parse(url)
    if db.kind == "sqlite":
        engine = create_engine(sqlalchemy_url(db), connect_args={"timeout": 5})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection, _record):  # noqa: ANN001, ANN202
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            dbapi_connection.execute("PRAGMA synchronous=FULL")

        @event.listens_for(engine, "begin")
        def _begin(conn):  # noqa: ANN001, ANN202
            immediate = conn.get_execution_options().get("immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(
        sqlalchemy_url(db),
        connect_args={
            "options": f"-csearch_path={db.schema} -clock_timeout=5s -cidle_in_transaction_session_timeout=10s",
            "connect_timeout": 5,
        },
        pool_pre_ping=True,
    )
