"""Command 1's demo data: loads on top of the shipped processes, twice without change, and
every demo login reaches its home page and inbox."""
from pathlib import Path

from app.engine import calendar
from app.engine.deploy import deploy_directory
from app.extensions import db
from app.models import Dispute, Enterprise, User
from app.services import demo


def test_demo_seed_is_idempotent_and_every_demo_login_works(app):
    calendar.seed()
    deploy_directory(Path(__file__).resolve().parents[2] / "bpmn")
    logins = demo.seed()
    counts = (db.session.scalar(db.select(db.func.count(Enterprise.id))),
              db.session.scalar(db.select(db.func.count(User.id))),
              db.session.scalar(db.select(db.func.count(Dispute.id))))
    assert demo.seed() == logins
    assert counts == (db.session.scalar(db.select(db.func.count(Enterprise.id))),
                      db.session.scalar(db.select(db.func.count(User.id))),
                      db.session.scalar(db.select(db.func.count(Dispute.id))))
    assert counts[2] == 2
    for username, password, _role in logins:
        client = app.test_client()
        assert client.post("/login", data={"username": username, "password": password}).status_code == 302, username
        assert client.get("/").status_code == 200, username
        assert client.get("/inbox").status_code == 200, username
