"""Liveness checks for the container healthchecks (docker-compose.yml):

    python -m workers.health worker      # an RQ worker of this host is registered and beating
    python -m workers.health scheduler   # this host's scheduler went round its loop lately

Exit 0 when alive, 1 otherwise. They do not build the app (no database, quick), so a
healthcheck every few seconds costs nothing. Redis answering is not enough for a worker:
a hung or crashed worker leaves Redis healthy, but its registration expires without
heartbeats (RQ refreshes it at least every `worker_ttl` seconds).
"""
import os
import socket
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

SCHEDULER_MAX_AGE = 120  # seconds since the scheduler's last round; each round takes about a second


def heartbeat_path() -> str:
    """Per host by default (/tmp is the container's own), so a second scheduler elsewhere
    cannot make a dead one look alive; SCHEDULER_HEARTBEAT_FILE overrides it."""
    return os.environ.get("SCHEDULER_HEARTBEAT_FILE") or os.path.join(tempfile.gettempdir(),
                                                                       "wuye-scheduler.heartbeat")


def beat() -> None:
    """Called by the scheduler on every round of its loop."""
    path = heartbeat_path()
    with open(path, "a"):
        pass
    os.utime(path)


def scheduler_alive(max_age: float = SCHEDULER_MAX_AGE) -> bool:
    try:
        return time.time() - os.path.getmtime(heartbeat_path()) <= max_age
    except OSError:
        return False


def worker_alive(redis_url: str, hostname: str | None = None) -> bool:
    from redis import Redis
    from rq import Worker
    hostname = hostname or socket.gethostname()
    now = datetime.now(timezone.utc)
    for worker in Worker.all(connection=Redis.from_url(redis_url)):
        if worker.hostname == hostname and worker.last_heartbeat is not None \
                and now - worker.last_heartbeat <= timedelta(seconds=worker.worker_ttl + 60):
            return True
    return False


def main(argv: list[str]) -> int:
    what = argv[1] if len(argv) > 1 else ""
    if what == "worker":
        alive = worker_alive(os.environ["REDIS_URL"])
    elif what == "scheduler":
        alive = scheduler_alive()
    else:
        print("usage: python -m workers.health worker|scheduler", file=sys.stderr)
        return 2
    print(f"{what} {'alive' if alive else 'NOT alive'}")
    return 0 if alive else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
