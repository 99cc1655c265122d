"""A small city for the dashboards, shared by the page tests and the browser walk."""
from datetime import timedelta

import pytest

from app.engine.calendar import now
from app.extensions import db
from app.models import HumanTask
from app.services import escrow
from tests.escrow.conftest import (approve_a_disbursement, bank_balance, bank_url, deposit,  # noqa: F401 (fixtures)
                                   processes, setup)


@pytest.fixture
def scene(setup, bank_url, factory):
    """世纪华庭 (乾元物业) has 180 000.00 paid in and 130 000.00 disbursed; 峒河湾 of another
    enterprise at another bank has 20 000.00 paid in and a disbursement request waiting for
    the center's review, overdue."""
    approve_a_disbursement(setup, bank_url, factory)
    other = factory.enterprise(name="峒河物业")
    far = factory.community(enterprise=other, name="峒河湾", fee="200000.00")
    other_bank = factory.bank()
    account = escrow.open_account({"community_id": far.id, "bank_id": other_bank.id,
                                   "payee_account_no": "6222021234567890128", "payee_name": "峒河物业"},
                                  setup["center"])
    deposit(bank_url, account.account_no, "20000.00")
    escrow.pull_statement(account)
    year, quarter = escrow.current_quarter()
    req = escrow.request_disbursement(factory.user("enterprise", org=other), account.id, year, min(quarter, 3))
    review = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == req.instance_id,
                                                          HumanTask.status == "open"))
    review.due_at = now() - timedelta(days=2)
    db.session.commit()
    return {**setup, "other": other, "far": far, "other_bank": other_bank, "far_account": account}
