"""Child processes of the benchmarks (gunicorn, RQ workers): each started in its own
process group, so stopping it stops its children too, and always stopped when a run ends."""
import os
import signal
import subprocess


def spawn(args: list[str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen(args, start_new_session=True, **kwargs)


def stop_all(procs: list[subprocess.Popen], timeout: float = 30) -> None:
    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
