"""Test fixtures: a real database (PostgreSQL by default, SQLite on the second pass),
real Redis, and helpers that act like users.

WUYE_TEST_DB=postgresql|sqlite picks the database. Each test run gets its own PostgreSQL
database (so parallel runs never meet) built by the Alembic migrations, and every test
starts from empty tables. With CI=true a missing PostgreSQL or Redis fails the run.
"""
import contextvars
import os
import uuid

import pytest
import sqlalchemy as sa
from flask import has_app_context
from flask.testing import FlaskClient

from app import create_app
from app.extensions import db

PG_ADMIN_URL = os.environ.get("WUYE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_TEST_URL = os.environ.get("WUYE_TEST_REDIS", "redis://127.0.0.1:6379/{db}")
IN_CI = os.environ.get("CI", "").lower() == "true"
BACKEND = os.environ.get("WUYE_TEST_DB", "postgresql")


def require_service(name: str, error: Exception):
    """A missing service is a failure in CI and a skip elsewhere."""
    message = f"{name} is not reachable: {error}"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _create_pg_database() -> tuple[str, callable]:
    name = f"wuye_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name, drop


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if BACKEND == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'wuye.sqlite'}"
        return
    try:
        url, drop = _create_pg_database()
    except sa.exc.OperationalError as e:
        require_service("PostgreSQL", e)
    yield url
    drop()


@pytest.fixture(scope="session")
def redis_url():
    import redis
    db_index = 1 + os.getpid() % 15
    url = REDIS_TEST_URL.format(db=db_index)
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError as e:
        require_service("Redis", e)
    return url


def make_test_config(database_url, tmp_path, **extra) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": None,
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_PROFILE": "CHEAPEST",
        "RATELIMIT_ENABLED": False,
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
    }
    config.update(extra)
    return config


@pytest.fixture(scope="session")
def _schema(database_url, tmp_path_factory):
    """Build the schema once per run through the migrations, as production does."""
    from flask_migrate import upgrade
    app = create_app(make_test_config(database_url, tmp_path_factory.mktemp("schema")))
    with app.app_context():
        upgrade(revision="heads")
        db.engine.dispose()
    return True


def _empty_all_tables():
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


class IsolatedClient(FlaskClient):
    """Each request runs in a fresh context, as in production: its own app context,
    database session and `g` (otherwise the test's pushed app context would be shared by
    every request and hide bugs). The test's own session is expired afterwards so it
    reads what the request wrote."""

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            db.session.expire_all()
        return response


@pytest.fixture
def app_config():
    """Override in a test module to change configuration (e.g. CSRF on)."""
    return {}


@pytest.fixture
def app(database_url, _schema, tmp_path, app_config):
    app = create_app(make_test_config(database_url, tmp_path, **app_config))
    app.test_client_class = IsolatedClient
    with app.app_context():
        _empty_all_tables()
        from app.engine.calendar import forget_calendar
        forget_calendar()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def redis_app(app, redis_url):
    """The app sending its jobs to the real Redis (an empty database), for the tests that run
    them with a real RQ worker."""
    import redis
    redis.Redis.from_url(redis_url).flushdb()
    app.config["REDIS_URL"] = redis_url
    yield app
    app.config["REDIS_URL"] = None
    redis.Redis.from_url(redis_url).flushdb()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


PASSWORD = "Secret-pass-123"


@pytest.fixture
def factory(app):
    from tests.factories import Factory
    return Factory()


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, username, password=PASSWORD, follow=False):
        return self.client.post("/login", data={"username": username, "password": password},
                                follow_redirects=follow)

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def login_as(app, factory):
    """login_as('enterprise') → a fresh test client logged in as a new user of that role."""

    def _login(role, client=None, **user_kwargs):
        user = factory.user(role, **user_kwargs)
        client = client or app.test_client()
        response = client.post("/login", data={"username": user.username, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        client.user = user
        return client

    return _login


@pytest.fixture
def api_client(app, factory):
    """api_client('bank') → (client, headers) for the JSON API as a new user of that role."""
    from app.services import users

    def _api(role, **user_kwargs):
        user = factory.user(role, **user_kwargs)
        token = users.issue_token(user, "test")
        client = app.test_client()
        client.user = user
        return client, {"Authorization": f"Bearer {token}"}

    return _api
