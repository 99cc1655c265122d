"""The public community page in production: several web processes share one cache in Redis
(a page one rendered serves the others, a committed change reaches all of them at once), and
a Redis that is down costs the visitor nothing but the cache."""
import pytest

from app import create_app
from app.extensions import db
from tests.conftest import IsolatedClient, make_test_config


@pytest.fixture
def second_process(redis_app, database_url, tmp_path):
    """Another web process: its own app (its own memory) on the same database and Redis."""
    other = create_app(make_test_config(database_url, tmp_path / "second", REDIS_URL=redis_app.config["REDIS_URL"]))
    other.test_client_class = IsolatedClient
    yield other
    with other.app_context():
        db.engine.dispose()


def rename_behind_every_process(community, name):
    """As by hand in the database: no commit through the models tells the caches."""
    db.session.execute(db.text("UPDATE community SET name = :name WHERE id = :id"), {"name": name, "id": community.id})
    db.session.commit()


def test_processes_share_the_page_and_a_change_reaches_them_all_at_once(redis_app, second_process, world):
    community = world["communities"]["shiji"]
    url = f"/public/evaluation/communities/{community.id}"
    shown = community.name
    first, second = redis_app.test_client(), second_process.test_client()
    assert shown in first.get(url).get_data(as_text=True)

    rename_behind_every_process(community, "背后改名小区")
    page = second.get(url)  # the page the first process rendered, though this one never did
    assert page.status_code == 200 and shown in page.get_data(as_text=True)
    assert "背后改名小区" not in page.get_data(as_text=True)

    community = db.session.get(type(community), community.id)
    community.name = "改名小区"
    db.session.commit()  # a change through the models, in one process …
    for client in (second, first):  # … shows in every process at once, not after the minute
        text = client.get(url).get_data(as_text=True)
        assert "改名小区" in text and "背后改名小区" not in text
    assert second.get("/public/evaluation/communities/999999").status_code == 404


def test_a_redis_that_is_down_costs_the_visitor_nothing_but_the_cache(app, world):
    community = world["communities"]["shiji"]
    url = f"/public/evaluation/communities/{community.id}"
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        client = app.test_client()
        page = client.get(url)
        assert page.status_code == 200 and community.name in page.get_data(as_text=True)
        rename_behind_every_process(community, "背后改名小区")
        assert "背后改名小区" in client.get(url).get_data(as_text=True)  # rendered again: nothing was kept
        community = db.session.get(type(community), community.id)
        community.name = "改名小区"
        db.session.commit()  # the change is saved; only telling the caches failed
        assert "改名小区" in client.get(url).get_data(as_text=True)
        assert client.get("/public/evaluation/ranking").status_code == 200
    finally:
        app.config["REDIS_URL"] = None
