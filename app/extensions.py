"""Flask extensions, created here unbound and bound to the app in create_app()."""
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask import current_app, has_request_context, request, session
from flask_login import LoginManager
from flask_login.utils import decode_cookie, encode_cookie
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.dialects import postgresql, sqlite

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

class RotatingLoginManager(LoginManager):
    """A remember-me cookie signed with a key of SECRET_KEY_FALLBACKS (a SECRET_KEY rotation
    in progress) still logs its user in, and is issued again signed with the new key."""

    def _load_user_from_remember_cookie(self, cookie):
        user = super()._load_user_from_remember_cookie(cookie)
        if user is not None:
            return user
        for key in current_app.config.get("SECRET_KEY_FALLBACKS") or ():
            user_id = decode_cookie(cookie, key=key)
            if user_id is not None:
                user = super()._load_user_from_remember_cookie(encode_cookie(user_id))
                if user is not None:
                    session["_remember"] = "set"
                return user
        return None


db = SQLAlchemy(metadata=MetaData(naming_convention=naming_convention))
migrate = Migrate()
login_manager = RotatingLoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """The embedded SQLite default has several writers (web, scheduler, in-process jobs):
    WAL lets readers and one writer work together, and a writer waits for a lock instead
    of failing at once with "database is locked"."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def tune_sqlite(engine) -> None:
    from sqlalchemy import event
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "savepoint", _sqlite_begin_before_savepoint)


def _sqlite_begin_before_savepoint(connection, _name) -> None:
    """pysqlite opens its transaction only at the first write, so a SAVEPOINT taken before
    any write would be the outermost one, and its RELEASE would commit on the spot: a
    refused push's nonce or a failed operator's half work would already be stored when the
    request rolls back. Opening the transaction first keeps the savepoint nested, as on
    PostgreSQL. IMMEDIATE takes the write lock now (waiting for it under busy_timeout):
    a savepoint means a write is coming, and a deferred transaction that read first could
    not upgrade to writing once another connection had committed meanwhile.
    (Reads elsewhere keep pysqlite's behaviour: each sees the latest commits.)"""
    _begin_immediate(connection)


def _begin_immediate(connection) -> None:
    dbapi_connection = connection.connection.dbapi_connection
    if not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN IMMEDIATE")


def lock_for_writing() -> None:
    """On SQLite, take the database's write lock now, before a read that a write will follow:
    what a row lock (FOR UPDATE, which SQLite leaves out) does on PostgreSQL. Without it, of
    two people claiming a task at once in the embedded default, both read it unclaimed and
    both were told it was theirs (the later write won). Held until the transaction ends; a
    no-op on PostgreSQL, and where the transaction has written already (it holds the lock)."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        _begin_immediate(connection)


def request_memo(name: str) -> dict:
    """A dict that lives as long as the current request (an empty one outside a request):
    for what a request asks more than once. Kept on the request itself, not on `g`: an app
    context (and its `g`) can outlive one request."""
    return request.environ.setdefault(f"wuye.{name}", {}) if has_request_context() else {}


def insert_or_skip(table, index_elements: list[str]):
    """INSERT … ON CONFLICT (index_elements) DO NOTHING, for the database in use."""
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=index_elements)
