"""Contract jobs: escalate an enterprise that would not correct to the high-risk process,
and the daily renewal reminders for contracts that end within 90 days."""
from app.services import contracts


def start_escalation(contract_id: int) -> None:
    contracts.start_escalation(contract_id)


def renewal_reminders() -> int:
    return contracts.send_renewal_reminders()
