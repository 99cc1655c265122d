"""Small jobs used to prove the job pipeline end to end (and by `flask jobs ping`)."""
from app.extensions import db
from app.services import audit


def record_ping(note: str) -> None:
    audit.record("jobs.ping", target_type="Job", target_id="ping", after={"note": note})
    db.session.commit()
