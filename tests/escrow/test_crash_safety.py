"""kill -9 of a worker in the middle of a bank call: the instruction reached the bank but
the result was never recorded. After restart, the sweep re-runs the call with the same
reference: the money moved once, the ledger has one entry, the case completes."""
import os
import subprocess
import sys
import time
from decimal import Decimal

import requests

from app.engine import runtime
from app.extensions import db
from app.models import DisbursementRequest, LedgerTxn, ServiceCall
from app.services import escrow
from tests.engine.test_external_worker import run_worker
from tests.escrow.conftest import approve_a_disbursement, bank_balance
from tests.security.procs import kill9


def test_worker_killed_mid_bank_call_pays_once_after_restart(redis_app, redis_url, database_url, tmp_path, setup,
                                                             bank_url, factory):
    account = setup["account"]
    req = approve_a_disbursement(setup, bank_url, factory)
    requests.post(f"{bank_url}/_control/timeout-next", json={"seconds": 30}, timeout=5)  # the bank is slow to answer

    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "INSTANCE_PATH": str(tmp_path),
           "SECRET_KEY": "test", "FLASK_APP": "app", "BANK_GATEWAY_URL": bank_url, "BANK_TIMEOUT": "60"}
    worker = subprocess.Popen([sys.executable, "-m", "flask", "worker"], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = requests.get(f"{bank_url}/_control/state", timeout=5).json()
            if state["instructions"]:
                break
            time.sleep(0.2)
        assert state["instructions"], "the worker never reached the bank"
        time.sleep(0.5)
    finally:
        kill9(worker)  # the worker and its work horse (RQ forks it into a process group of its own) die mid-call

    db.session.expire_all()
    call = db.session.scalar(db.select(ServiceCall))
    assert call.status == "running"  # sent, not recorded
    assert db.session.get(DisbursementRequest, req.id).status == "approved"
    assert runtime.requeue_stuck_calls(older_than_seconds=0) == 1  # the periodic sweep after restart
    run_worker(database_url, redis_url, bank_url, tmp_path)

    assert db.session.get(DisbursementRequest, req.id).status == "paid"
    assert bank_balance(bank_url, account.account_no) == Decimal("50000.00")
    assert db.session.scalar(db.select(db.func.count(LedgerTxn.id)).where(LedgerTxn.kind == "disbursement")) == 1
    assert escrow.balance(account.id) == Decimal("50000.00")
