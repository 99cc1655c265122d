"""Escrow fixtures: the sandbox bank as a real HTTP server and an open supervised account."""
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from app.engine.deploy import deploy
from app.services import escrow
from tests.devices.conftest import wuye_url  # noqa: F401 (fixture: Wuye on a real port, for the bank's notifications)

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


@pytest.fixture
def processes(app):
    for key in ("quarterly_disbursement", "escrow_reconciliation"):
        deploy(key, (BPMN / f"{key}.bpmn").read_text(encoding="utf-8"))


NOTIFY_PATH = "/api/v1/integrations/bank/notifications"


@pytest.fixture
def bank_url(app, request):
    """The sandbox bank on a real port. A test that also asks for `wuye_url` (Wuye on a
    real port) gets a bank that sends its signed notifications there."""
    from sandbox.bank import create_app as create_bank
    from sandbox.server import serve_in_thread
    notify_url = request.getfixturevalue("wuye_url") + NOTIFY_PATH if "wuye_url" in request.fixturenames else None
    url, shutdown = serve_in_thread(create_bank(key_id=app.config["BANK_KEY_ID"], secret=app.config["BANK_SECRET"],
                                                notify_url=notify_url))
    app.config["BANK_GATEWAY_URL"] = url
    app.config["BANK_TIMEOUT"] = 5  # a test of a late answer shortens it after its setup (a busy machine may take 1 s)
    app.config["ENGINE_RETRY_BASE_SECONDS"] = 0
    yield url
    shutdown()


@pytest.fixture
def setup(app, factory, processes, bank_url):
    """A community with 1 000 000.00 annual receivable fees and its supervised account."""
    enterprise = factory.enterprise(name="乾元物业")
    community = factory.community(enterprise=enterprise, name="世纪华庭", fee="1000000.00")
    bank = factory.bank()
    center = factory.user("housing_center")
    account = escrow.open_account({"community_id": community.id, "bank_id": bank.id,
                                   "payee_account_no": "6222021234567890128", "payee_name": "乾元物业"}, center)
    return {"enterprise": enterprise, "community": community, "bank": bank, "account": account, "center": center}


def deposit(bank_url, account_no, amount, payer="业主张三", memo="物业费"):
    response = requests.post(f"{bank_url}/_control/deposit", json={"account_no": account_no, "amount": amount,
                                                                   "payer": payer, "memo": memo}, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def bank_balance(bank_url, account_no) -> Decimal:
    return Decimal(requests.get(f"{bank_url}/_control/state", timeout=5).json()["accounts"][account_no]["balance"])


def approve_a_disbursement(setup, bank_url, factory):
    """180 000.00 paid in; the enterprise asks for this quarter's release and the center
    approves it. The bank call is then queued (on Redis when REDIS_URL is set)."""
    from app.engine import runtime
    from app.extensions import db
    from app.models import HumanTask
    account = setup["account"]
    deposit(bank_url, account.account_no, "180000.00")
    escrow.pull_statement(account)
    year, quarter = escrow.current_quarter()
    req = escrow.request_disbursement(factory.user("enterprise", org=setup["enterprise"]), account.id, year,
                                      min(quarter, 3))
    task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == req.instance_id,
                                                        HumanTask.spec_id == "review"))
    runtime.complete_task(task.id, {"decision": "approve", "comment": ""}, setup["center"])
    return req


def control(bank_url, action, **body):
    """Tell the sandbox bank what to do (unsigned /_control/ endpoint); its answer."""
    response = requests.post(f"{bank_url}/_control/{action}", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def bank_instruction(bank_url, reference) -> dict:
    return next(i for i in requests.get(f"{bank_url}/_control/state", timeout=5).json()["instructions"]
                if i["reference"] == reference)


def open_task(instance_id, spec_id=None):
    from app.extensions import db
    from app.models import HumanTask
    db.session.expire_all()
    query = db.select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == "open")
    if spec_id:
        query = query.where(HumanTask.spec_id == spec_id)
    return db.session.scalar(query.order_by(HumanTask.id))


@pytest.fixture
def clock():
    """Pin the engine clock at now; `clock.advance(minutes=…)` travels and fires due timers."""
    from datetime import timedelta
    from app.engine import calendar, runtime

    class Clock:
        at = calendar.now()

        def advance(self, **delta) -> int:
            self.at += timedelta(**delta)
            calendar.set_clock(self.at)
            return runtime.advance_due_timers()

    calendar.set_clock(Clock.at)
    yield Clock()
    calendar.set_clock(None)


def eventually(check, seconds=30.0):
    """Wait for something another process or thread does (a notification, a worker's job)."""
    import time
    from app.extensions import db
    deadline = time.monotonic() + seconds
    while True:
        db.session.expire_all()
        db.session.rollback()  # a fresh snapshot of what the others committed
        if check():
            return
        assert time.monotonic() < deadline, "the expected change did not happen in time"
        time.sleep(0.2)
