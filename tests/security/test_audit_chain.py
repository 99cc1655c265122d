"""The audit log is tamper-evident: an edited or deleted entry breaks the chain."""
from app.extensions import db
from app.models import AuditEvent
from app.services import audit


def test_chain_is_sealed_verified_and_breaks_on_tampering(app, runner, factory):
    for i in range(3):
        factory.enterprise(name=f"链上企业{i}")
    assert audit.seal() == 3 and audit.seal() == 0
    assert runner.invoke(args=["audit", "verify"]).output.strip() == "audit chain intact"
    factory.enterprise(name="后来的企业")
    audit.seal()
    assert audit.verify_chain() is None

    second = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id)).all()[1]
    db.session.execute(db.update(AuditEvent).where(AuditEvent.id == second.id).values(after={"name": "篡改"}))
    db.session.commit()
    assert audit.verify_chain().id == second.id
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"entry {second.id}" in result.output


def test_a_deleted_entry_is_found(app, factory):
    for i in range(3):
        factory.enterprise(name=f"企业{i}")
    audit.seal()
    ids = list(db.session.scalars(db.select(AuditEvent.id).order_by(AuditEvent.id)))
    db.session.execute(db.delete(AuditEvent).where(AuditEvent.id == ids[1]))
    db.session.commit()
    assert audit.verify_chain().id == ids[2]
