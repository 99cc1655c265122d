"""The audit log is tamper-evident: an edited or deleted entry breaks the chain, deleting the
newest entries leaves the chain shorter than its stored head, and an entry the sealer never
chained is reported once it is older than the sealer could excuse."""
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import AuditChainHead, AuditEvent
from app.models.base import utcnow
from app.services import audit


def entries():
    return db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id)).all()


def test_chain_is_sealed_verified_and_breaks_on_tampering(app, runner, factory):
    for i in range(3):
        factory.enterprise(name=f"链上企业{i}")
    assert audit.seal() == 3 and audit.seal() == 0
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and result.output.startswith("audit chain intact: 3 entries"), result.output
    factory.enterprise(name="后来的企业")
    audit.seal()
    assert audit.verify_chain() is None
    assert [e.chain_seq for e in entries()] == [1, 2, 3, 4]

    second = entries()[1]
    db.session.execute(db.update(AuditEvent).where(AuditEvent.id == second.id).values(after={"name": "篡改"}))
    db.session.commit()
    problem = audit.verify_chain()
    assert (problem.kind, problem.id) == ("broken", second.id)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"entry {second.id}" in result.output


def test_a_deleted_entry_is_found(app, factory):
    for i in range(3):
        factory.enterprise(name=f"企业{i}")
    audit.seal()
    ids = [e.id for e in entries()]
    db.session.execute(db.delete(AuditEvent).where(AuditEvent.id == ids[1]))
    db.session.commit()
    problem = audit.verify_chain()
    assert (problem.kind, problem.id) == ("broken", ids[2])


def test_deleting_the_newest_entries_is_found_by_the_head(app, runner, factory):
    for i in range(4):
        factory.enterprise(name=f"企业{i}")
    audit.seal()
    ids = [e.id for e in entries()]
    db.session.execute(db.delete(AuditEvent).where(AuditEvent.id.in_(ids[2:])))
    db.session.commit()
    problem = audit.verify_chain()
    assert (problem.kind, problem.id) == ("truncated", ids[3])
    assert "4 entries" in problem.message and "2 entries" in problem.message
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "truncated" in result.output

    db.session.execute(db.delete(AuditChainHead))  # and the head with them: the sealer refuses to restart the chain
    db.session.commit()
    factory.enterprise(name="之后的企业")
    assert audit.seal() == 0
    assert audit.verify_chain().kind == "truncated"


def test_taking_the_newest_entry_out_of_the_chain_to_edit_it_shows(app, factory):
    for i in range(3):
        factory.enterprise(name=f"企业{i}")
    audit.seal()
    last = entries()[-1]
    db.session.execute(db.update(AuditEvent).where(AuditEvent.id == last.id).values(
        chain_seq=None, hash=None, prev_hash=None, after={"name": "改过"}))
    db.session.commit()
    assert audit.verify_chain().kind == "truncated"
    audit.seal()  # sealing it again puts it after a gap
    assert audit.verify_chain().kind == "broken"


def test_an_entry_left_unsealed_too_long_is_reported(app, runner, factory):
    factory.enterprise(name="企业")
    audit.seal()
    factory.enterprise(name="刚刚登记的企业")
    assert audit.verify_chain() is None  # the sealer will chain it within a minute
    late = audit.verify_chain(now=utcnow() + audit.UNSEALED_GRACE + timedelta(seconds=1))
    assert late.kind == "unsealed" and late.id == entries()[-1].id
    audit.seal()
    assert audit.verify_chain(now=utcnow() + audit.UNSEALED_GRACE + timedelta(seconds=1)) is None


@pytest.mark.postgres_only
def test_an_entry_committed_after_a_newer_one_was_sealed_is_still_chained(app, factory):
    """Two transactions: the first takes its id, the second takes a later one and commits,
    the sealer runs, then the first commits. Its entry is chained in the next run."""
    slow = Session(db.engine)
    early = AuditEvent(action="test.slow", target_type="T", target_id="1")
    slow.add(early)
    slow.flush()  # id taken, not committed
    factory.enterprise(name="先提交的企业")
    assert audit.seal() == 1
    slow.commit()
    assert audit.seal() == 1
    rows = entries()
    assert rows[0].id == early.id and rows[0].chain_seq == 2 and rows[1].chain_seq == 1
    assert audit.verify_chain(now=utcnow() + audit.UNSEALED_GRACE * 2) is None
    slow.close()
