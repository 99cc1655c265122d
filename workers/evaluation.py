"""Evaluation jobs: the year-end settlements started once a result is final."""
from app.extensions import db
from app.services import evaluation


def start_settlements(evaluation_id: int) -> int:
    started = evaluation.start_settlements(evaluation_id)
    db.session.commit()
    return started
