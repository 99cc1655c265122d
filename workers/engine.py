"""Engine jobs: external service calls, and the periodic tick (due timers, stuck calls)."""
import time

from app.engine import runtime


def run_service_call(call_id: int) -> None:
    runtime.run_service_call(call_id)


TICK_BUDGET_SECONDS = 30
TICK_BATCH = 200


def tick(budget_seconds: float = TICK_BUDGET_SECONDS) -> dict:
    """Run by the scheduler every few seconds; safe to run on several workers at once.
    Advances due timers batch after batch while they keep coming and the budget lasts, so a
    backlog (a province's deadlines falling on one morning) is not held to one batch per
    tick; ticks that overlap split the instances between them."""
    started, timers = time.monotonic(), 0
    while True:
        advanced = runtime.advance_due_timers(limit=TICK_BATCH)
        timers += advanced
        if advanced < TICK_BATCH or time.monotonic() - started >= budget_seconds:
            break
    return {"timers": timers, "requeued_calls": runtime.requeue_stuck_calls()}
