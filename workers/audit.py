"""Audit jobs."""
from app.services import audit


def seal() -> int:
    return audit.seal()
