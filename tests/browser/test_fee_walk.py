"""Fee collection in the browser: the enterprise uploads its roll and watches the import job
finish, sees who is in arrears and sends a reminder round; the owners' committee records
its urging."""
from datetime import datetime
from zoneinfo import ZoneInfo

import requests

from app.extensions import db
from app.services import escrow
from tests.browser.conftest import screenshot
from tests.browser.test_login import login
from tests.fees.conftest import ROLL_CSV


def test_roll_import_arrears_reminders_and_urging(new_page, factory, app, tmp_path):
    from sandbox.bank import create_app as create_bank
    from sandbox.server import serve_in_thread
    bank_url, shutdown = serve_in_thread(create_bank(key_id=app.config["BANK_KEY_ID"], secret=app.config["BANK_SECRET"]))
    app.config["BANK_GATEWAY_URL"] = bank_url
    try:
        enterprise = factory.enterprise(name="乾元物业")
        community = factory.community(enterprise=enterprise, name="世纪华庭", fee="1000000.00")
        bank = factory.bank()
        center = factory.user("housing_center")
        factory.user("enterprise", org=enterprise, username="qianyuan")
        factory.user("owners_committee", org=factory.committee(community), username="yeweihui")
        account = escrow.open_account({"community_id": community.id, "bank_id": bank.id,
                                       "payee_account_no": "6222021234567890128", "payee_name": "乾元物业"}, center)
        requests.post(f"{bank_url}/_control/deposit", json={"account_no": account.account_no, "amount": "2400.00",
                                                             "memo": "1-1-101"}, timeout=5)
        escrow.pull_statement(account)
        community_id = community.id
        db.session.remove()
        roll = tmp_path / "收费名册.csv"
        roll.write_text(ROLL_CSV, encoding="utf-8")

        ent = new_page()
        login(ent, "qianyuan")
        ent.get_by_test_id("main-nav").get_by_text("物业费收缴").click()
        ent.get_by_test_id("fee-rates").get_by_text("世纪华庭").click()
        ent.locator("input[type=file]").set_input_files(str(roll))
        ent.get_by_role("button", name="导入").click()
        ent.get_by_test_id("job-message").get_by_text("已导入 3 户").wait_for()
        ent.get_by_test_id("job-back").click()
        assert ent.get_by_test_id("fee-receivable").inner_text() == "8,400.00"
        assert ent.get_by_test_id("fee-rate").inner_text() == "28.6%"
        ent.get_by_test_id("issue-reminders").click()
        ent.get_by_test_id("job-message").get_by_text("已发出第 1 轮催缴通知书，共 2 份。").wait_for()
        ent.get_by_test_id("job-back").click()
        assert ent.get_by_test_id("letter").count() == 2
        screenshot(ent, "fees-community-enterprise")

        committee = new_page()
        login(committee, "yeweihui")
        committee.goto(f"/fees/{community_id}")
        committee.get_by_label("欠费住户").select_option(label="2-1-201 王五")
        committee.get_by_label("督促日期").fill(datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat())
        committee.get_by_label("督促方式").select_option(label="上门督促")
        committee.get_by_label("督促结果").select_option(label="承诺限期缴纳")
        committee.get_by_role("button", name="保存").click()
        committee.get_by_text("已记录督促情况。").wait_for()
        assert "2-1-201" in committee.get_by_test_id("urgings").inner_text()
        screenshot(committee, "fees-committee-urging")
    finally:
        shutdown()
