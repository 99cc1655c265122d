"""The container healthchecks of docker-compose.yml: the worker's says whether this host's
RQ worker is alive (not merely whether Redis answers), the scheduler's whether its loop
goes round. Both run here as compose runs them, against a real worker, scheduler and Redis."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from redis import Redis

ROOT = Path(__file__).resolve().parents[2]


def compose_services() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))["services"]


def health(what: str, env: dict) -> subprocess.CompletedProcess:
    """The healthcheck command compose runs for service `what`."""
    command = compose_services()[what]["healthcheck"]["test"]
    assert command[:2] == ["CMD", "python"]
    return subprocess.run([sys.executable, *command[2:]], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)


def wait_until_healthy(what: str, env: dict, process: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()[-2000:]
        if health(what, env).returncode == 0:
            return
        time.sleep(0.5)
    pytest.fail(f"{what} never became healthy")


@pytest.fixture
def env(app, redis_url, database_url, tmp_path):
    Redis.from_url(redis_url).flushdb()
    yield {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "INSTANCE_PATH": str(tmp_path),
           "SECRET_KEY": "test", "FLASK_APP": "app", "PYTHONPATH": str(ROOT),
           "SCHEDULER_HEARTBEAT_FILE": str(tmp_path / "scheduler.heartbeat")}
    Redis.from_url(redis_url).flushdb()


def start(*args, env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flask", *args], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def stop(process: subprocess.Popen) -> None:
    process.terminate()  # SIGTERM, as `docker stop` sends
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_every_long_running_service_has_a_healthcheck():
    services = compose_services()
    assert {name for name, s in services.items() if "healthcheck" not in s} == {"migrate"}  # it runs and exits
    assert "ping" not in " ".join(services["worker"]["healthcheck"]["test"])  # not just "Redis answers"


def test_worker_healthcheck_follows_the_worker_not_redis(env):
    assert Redis.from_url(env["REDIS_URL"]).ping()
    refused = health("worker", env)
    assert refused.returncode == 1 and "NOT alive" in refused.stdout  # Redis is up, but no worker runs

    worker = start("worker", env=env)
    try:
        wait_until_healthy("worker", env, worker)
    finally:
        stop(worker)
    assert health("worker", env).returncode == 1  # stopped: unhealthy again


def test_scheduler_healthcheck_follows_its_loop(env):
    heartbeat = Path(env["SCHEDULER_HEARTBEAT_FILE"])
    assert health("scheduler", env).returncode == 1  # never ran

    scheduler = start("scheduler", env=env)
    try:
        wait_until_healthy("scheduler", env, scheduler)
    finally:
        stop(scheduler)
    assert health("scheduler", env).returncode == 0  # it beat a moment ago
    stale = time.time() - 300
    os.utime(heartbeat, (stale, stale))  # a loop stuck for five minutes leaves its heartbeat this old
    assert health("scheduler", env).returncode == 1
