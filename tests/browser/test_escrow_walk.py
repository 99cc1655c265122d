"""A quarterly disbursement in the browser: the enterprise fills the request form, the
housing center approves in its inbox, the bank sees its executed instruction."""
from pathlib import Path

import requests

from app.engine.deploy import deploy
from app.extensions import db
from app.services import escrow
from tests.browser.conftest import screenshot
from tests.browser.test_login import login

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


def test_quarterly_request_from_form_to_bank_confirmation(new_page, factory, app):
    from sandbox.bank import create_app as create_bank
    from sandbox.server import serve_in_thread
    bank_url, shutdown = serve_in_thread(create_bank(key_id=app.config["BANK_KEY_ID"], secret=app.config["BANK_SECRET"]))
    app.config["BANK_GATEWAY_URL"] = bank_url
    try:
        deploy("quarterly_disbursement", (BPMN / "quarterly_disbursement.bpmn").read_text(encoding="utf-8"))
        enterprise = factory.enterprise(name="乾元物业")
        community = factory.community(enterprise=enterprise, name="世纪华庭", fee="1000000.00")
        bank = factory.bank()
        center = factory.user("housing_center", username="zhubao")
        factory.user("enterprise", org=enterprise, username="qianyuan")
        factory.user("bank", org=bank, username="yinhang")
        account = escrow.open_account({"community_id": community.id, "bank_id": bank.id,
                                       "payee_account_no": "6222021234567890128", "payee_name": "乾元物业"}, center)
        requests.post(f"{bank_url}/_control/deposit", json={"account_no": account.account_no, "amount": "180000.00"},
                      timeout=5)
        escrow.pull_statement(account)
        account_id = account.id
        db.session.remove()

        ent = new_page()
        login(ent, "qianyuan")
        ent.get_by_test_id("main-nav").get_by_text("资金监管").click()
        ent.get_by_text("世纪华庭").click()
        assert ent.get_by_test_id("payable").inner_text() == "130,000.00"
        ent.get_by_test_id("submit-request").click()
        ent.get_by_text("支付申请已提交，应拨付 130000.00 元").wait_for()
        screenshot(ent, "escrow-account-enterprise")

        boss = new_page()
        login(boss, "zhubao")
        boss.goto("/inbox")
        boss.get_by_test_id("task-row").filter(has_text="世纪华庭").get_by_test_id("task-link").click()
        boss.get_by_label("同意拨付").check()
        boss.get_by_test_id("complete").click()
        boss.get_by_text("已办理").wait_for()

        teller = new_page()
        login(teller, "yinhang")
        teller.goto("/escrow/instructions")
        row = teller.get_by_test_id("instructions").locator("tr", has_text="130,000.00")
        assert "已执行" in row.inner_text()
        screenshot(teller, "bank-instructions")
        ent.goto(f"/escrow/accounts/{account_id}")
        assert ent.get_by_test_id("balance").inner_text() == "50,000.00"
        assert "已拨付" in ent.get_by_test_id("requests").inner_text()
    finally:
        shutdown()
