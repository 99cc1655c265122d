"""Engine jobs: external service calls, and the periodic tick (due timers, stuck calls)."""
from app.engine import runtime


def run_service_call(call_id: int) -> None:
    runtime.run_service_call(call_id)


def tick() -> dict:
    """Run by the scheduler every few seconds; safe to run on several workers at once."""
    return {"timers": runtime.advance_due_timers(), "requeued_calls": runtime.requeue_stuck_calls()}
