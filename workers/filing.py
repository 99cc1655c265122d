"""Filing jobs: escalate an enterprise that would not file to the high-risk process."""
from app.services import high_risk


def start_escalation(filing_id: int) -> None:
    high_risk.start_from_filing(filing_id)
