"""Real RQ worker processes for the crash tests: started, killed with kill -9 (the worker and
its work horse, which RQ forks into a process group of its own), run to empty the queues."""
import os
import signal
import subprocess
import sys

from app.extensions import db


def worker_env(database_url, redis_url, tmp_path, **more) -> dict:
    return {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "test", "FLASK_APP": "app", **more}


def run_worker(database_url, redis_url, tmp_path, **more):
    result = subprocess.run([sys.executable, "-m", "flask", "worker", "--burst"], capture_output=True, text=True,
                            env=worker_env(database_url, redis_url, tmp_path, **more), timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    db.session.expire_all()


def start_worker(database_url, redis_url, tmp_path, **more):
    return subprocess.Popen([sys.executable, "-m", "flask", "worker"],
                            env=worker_env(database_url, redis_url, tmp_path, **more),
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def descendants(pid: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        try:
            stat = open(f"/proc/{entry}/stat").read() if entry.isdigit() else ""
        except OSError:  # gone meanwhile
            continue
        if stat and int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            children.append(int(entry))
    return children + [grandchild for child in children for grandchild in descendants(child)]


def kill9(worker) -> None:
    """kill -9 of the worker and of its work horse."""
    for pid in [*descendants(worker.pid), worker.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    worker.wait()
