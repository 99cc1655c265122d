"""Writing the credit file and public disclosures. Callers are inside their own use case:
these add rows and audit events to the current transaction and do not commit."""
from datetime import date

from app.extensions import db
from app.models import CreditRecord, Disclosure
from app.services import audit


def credit(enterprise_id: int, kind: str, title: str, *, positive: bool = False, detail: str = "", points=None,
           source: str = "", instance_id: int | None = None, person_id: int | None = None,
           valid_until: date | None = None, actor=None) -> CreditRecord:
    row = CreditRecord(enterprise_id=enterprise_id, kind=kind, title=title, positive=positive, detail=detail,
                       points=points, source=source, source_instance_id=instance_id, person_id=person_id,
                       valid_until=valid_until)
    db.session.add(row)
    db.session.flush()
    audit.record("credit.record", row, after={"enterprise_id": enterprise_id, "kind": kind, "title": title,
                                              "positive": positive}, actor=actor)
    return row


def disclose(community_id: int, kind: str, title: str, *, body: str = "", enterprise_id: int | None = None,
             attachment_id: int | None = None, instance_id: int | None = None, ends_at=None,
             actor=None) -> Disclosure:
    row = Disclosure(community_id=community_id, kind=kind, title=title, body=body, enterprise_id=enterprise_id,
                     attachment_id=attachment_id, source_instance_id=instance_id, ends_at=ends_at)
    db.session.add(row)
    db.session.flush()
    audit.record("disclosure.publish", row, after={"community_id": community_id, "kind": kind, "title": title},
                 actor=actor)
    return row
