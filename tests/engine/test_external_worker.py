"""An external service task through a real RQ worker on the real Redis: the bank is down,
the call is retried, the instance shows an incident; the bank comes back, a supervisor
retries, the case moves on — and no call is made twice after it succeeded."""
import os
import subprocess
import sys

import requests

from app.engine import runtime
from app.extensions import db
from app.integrations.bank import BankClient
from app.models import HumanTask, InstanceEvent, ProcessInstance, ServiceCall


def run_worker(database_url, redis_url, bank_url, tmp_path):
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "INSTANCE_PATH": str(tmp_path),
           "SECRET_KEY": "test", "FLASK_APP": "app", "BANK_GATEWAY_URL": bank_url, "ENGINE_RETRY_BASE_SECONDS": "0",
           "BANK_TIMEOUT": "2"}
    result = subprocess.run([sys.executable, "-m", "flask", "worker", "--burst"], env=env, capture_output=True,
                            text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    db.session.expire_all()


def test_retry_incident_and_supervisor_retry_through_rq(redis_app, redis_url, database_url, tmp_path, deployed,
                                                         bank_sandbox, factory, login_as):
    bank = BankClient(bank_sandbox.base_url, redis_app.config["BANK_KEY_ID"], redis_app.config["BANK_SECRET"])
    account_no = bank.open_account("c-9", "监管账户")["account_no"]
    enterprise = factory.enterprise()
    instance = runtime.start("demo_review", business_key="rq-1", title="演示", orgs={"enterprise_id": enterprise.id},
                             data={"review_days": 5, "account_no": account_no})
    task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id))
    runtime.complete_task(task.id, {"title": "t", "amount": "100"}, factory.user("enterprise", org=enterprise))
    review = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                          HumanTask.status == "open"))
    requests.post(f"{bank_sandbox.base_url}/_control/down", timeout=5)
    runtime.complete_task(review.id, {"decision": "approve"}, factory.user("housing_center"))

    call = db.session.scalar(db.select(ServiceCall).where(ServiceCall.instance_id == instance.id))
    assert call.status == "pending"  # queued on Redis, not run in the request
    run_worker(database_url, redis_url, bank_sandbox.base_url, tmp_path)

    call = db.session.get(ServiceCall, call.id)
    instance = db.session.get(ProcessInstance, instance.id)
    assert call.status == "failed" and call.attempts == 3 and "503" in call.last_error
    assert instance.status == "error" and instance.incident_task == "查询监管账户余额"
    kinds = list(db.session.scalars(db.select(InstanceEvent.kind).where(InstanceEvent.instance_id == instance.id)))
    assert kinds.count("service_call_retry") == 2 and "incident" in kinds

    requests.post(f"{bank_sandbox.base_url}/_control/up", timeout=5)
    center = login_as("housing_center")
    assert center.post(f"/cases/{instance.id}/retry").status_code == 302
    run_worker(database_url, redis_url, bank_sandbox.base_url, tmp_path)

    call = db.session.get(ServiceCall, call.id)
    instance = db.session.get(ProcessInstance, instance.id)
    assert call.status == "succeeded" and call.result == {"balance": "0.00"}
    assert instance.status == "waiting" and instance.incident is None  # now waiting for the confirmation message

    runtime.run_service_call(call.id)  # a duplicated job finds the call settled and does nothing
    assert db.session.scalar(db.select(db.func.count(InstanceEvent.id)).where(
        InstanceEvent.instance_id == instance.id, InstanceEvent.kind == "service_call_done")) == 1


def test_a_call_stuck_running_after_a_killed_worker_is_requeued(app, deployed, bank_sandbox, factory):
    """A worker killed mid-job leaves the call 'running'; the periodic sweep queues it again."""
    from datetime import timedelta
    from app.models.base import utcnow
    bank = BankClient(bank_sandbox.base_url, app.config["BANK_KEY_ID"], app.config["BANK_SECRET"])
    account_no = bank.open_account("c-10", "监管账户")["account_no"]
    enterprise = factory.enterprise()
    requests.post(f"{bank_sandbox.base_url}/_control/down", timeout=5)
    app.config["ENGINE_RETRY_BASE_SECONDS"] = 0
    instance = runtime.start("demo_review", business_key="stuck-1", title="演示",
                             orgs={"enterprise_id": enterprise.id}, data={"review_days": 5, "account_no": account_no})
    task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id))
    runtime.complete_task(task.id, {"title": "t", "amount": "100"}, factory.user("enterprise", org=enterprise))
    review = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                          HumanTask.status == "open"))
    runtime.complete_task(review.id, {"decision": "approve"}, factory.user("housing_center"))
    call = db.session.scalar(db.select(ServiceCall).where(ServiceCall.instance_id == instance.id))
    call.status, call.attempts, call.updated_at = "running", 1, utcnow() - timedelta(hours=1)
    instance = db.session.get(ProcessInstance, instance.id)
    instance.status, instance.incident = "waiting", None
    db.session.commit()
    requests.post(f"{bank_sandbox.base_url}/_control/up", timeout=5)
    assert runtime.requeue_stuck_calls() == 1  # in-process: runs at once
    assert db.session.get(ServiceCall, call.id).status == "succeeded"
