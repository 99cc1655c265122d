"""Periodic jobs with two schedulers or overlapping runs: while one run of the audit sealer
or of the daily digest holds the job's lock, a second run stops at once and changes
nothing (a second sealer would chain new entries to a stale last entry; a second digest
would send everyone the day's digest twice); a second notification delivery skips the rows
the first one holds (it would hand them to the notifier twice)."""
from contextlib import contextmanager

import pytest

from app.extensions import db
from app.models import AuditEvent, Notification
from app.services import audit, notify
from tests.engine.test_timer_claims import due_instance

pytestmark = pytest.mark.postgres_only


@contextmanager
def another_run_holding(name):
    with db.engine.connect() as other:
        other.begin()
        assert other.scalar(db.text("SELECT pg_try_advisory_xact_lock(hashtext(:n))"), {"n": name})
        yield
        other.rollback()


def test_a_second_sealer_stops_while_one_runs_and_the_chain_stays_whole(app):
    audit.record("test.first", target_type="T", target_id="1")
    db.session.commit()
    assert audit.seal() == 1
    for n in range(3):
        audit.record("test.more", target_type="T", target_id=str(n))
    db.session.commit()
    with another_run_holding("audit.seal"):
        assert audit.seal() == 0
        assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.hash.is_(None))) == 3
    assert audit.seal() == 3
    assert audit.verify_chain() is None


def test_a_second_digest_run_stops_while_one_runs(app, factory, deployed, clock):
    due_instance(factory, clock)  # a review task long overdue for the housing center
    user = factory.user("housing_center")
    with another_run_holding("notify.daily_digest"):
        assert notify.daily_digest() == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(Notification)
                             .where(Notification.user_id == user.id, Notification.kind == "digest")) == 0
    assert notify.daily_digest() == 1
    assert notify.daily_digest() == 0  # once a day


def test_a_second_delivery_skips_what_the_first_one_holds(app, factory):
    user = factory.user("housing_center")
    held, free = notify.notify(user, "task", "新任务：一"), notify.notify(user, "task", "新任务：二")
    db.session.commit()
    with db.engine.connect() as other:  # the first run, between its read and its commit
        other.begin()
        other.execute(db.text("SELECT id FROM notification WHERE id = :id FOR UPDATE"), {"id": held.id})
        assert notify.deliver_pending() == 1
        other.rollback()
    db.session.expire_all()
    assert held.delivered_at is None and free.delivered_at is not None
    assert notify.deliver_pending() == 1
