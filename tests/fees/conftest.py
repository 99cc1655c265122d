"""A community under escrow with a fee roll of three households and this year's receipts."""
import io

import pytest
import requests

from app.engine.calendar import SHANGHAI, now
from app.extensions import db
from app.models import LongJob
from app.services import escrow
from tests.escrow.conftest import bank_url, processes, setup  # noqa: F401 (fixtures)

ROLL_CSV = "房号,业主姓名,年物业费,联系电话\n1-1-101,张三,2400.00,\n1-1-102,李四,2400.00,\n2-1-201,王五,3600.00,13800138000\n"
# (amount, memo): 1-1-101 pays in full, 2-1-201 in part (a full-width dash too), two receipts name no one room.
RECEIPTS = [("2400.00", "物业费 1-1-101"), ("1000.00", "2-1-201 物业费"), ("600.00", "2－1－201"),
            ("500.00", "物业费"), ("300.00", "1-1-101，1-1-102")]


def this_year() -> int:
    return now().astimezone(SHANGHAI).year


def pay(bank_url, account_no, amount, memo, payer="业主"):
    response = requests.post(f"{bank_url}/_control/deposit", json={"account_no": account_no, "amount": amount,
                                                                   "payer": payer, "memo": memo}, timeout=5)
    assert response.status_code == 200, response.text


def upload(client, community_id, content: bytes, filename="roll.csv", year=None):
    return client.post(f"/fees/{community_id}/import?year={year or this_year()}",
                       data={"file": (io.BytesIO(content), filename)}, content_type="multipart/form-data")


@pytest.fixture
def fees(setup, bank_url, factory, login_as):
    """世纪华庭 with its roll imported by its enterprise and five receipts of this year."""
    community, account = setup["community"], setup["account"]
    enterprise = login_as("enterprise", org=setup["enterprise"])
    response = upload(enterprise, community.id, ROLL_CSV.encode())
    assert response.status_code == 302, response.get_data(as_text=True)
    job = db.session.scalar(db.select(LongJob).order_by(LongJob.id.desc()))
    assert job.status == "done", (job.status, job.error)
    for amount, memo in RECEIPTS:
        pay(bank_url, account.account_no, amount, memo)
    escrow.pull_statement(account)
    committee = factory.committee(community)
    return {**setup, "enterprise_client": enterprise, "committee": committee, "job": job,
            "committee_client": login_as("owners_committee", org=committee)}
