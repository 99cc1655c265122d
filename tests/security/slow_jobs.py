"""A job for the outbox tests that a test can hold mid-run: it waits while the file `hold`
exists, then records a ping (workers.demo.record_ping)."""
import os
import time

from workers.demo import record_ping


def held_ping(note: str, hold: str) -> None:
    deadline = time.monotonic() + 120
    while os.path.exists(hold) and time.monotonic() < deadline:
        time.sleep(0.05)
    record_ping(note)
