"""In the browser: a mediator opens a case from the caseload, records a mediation session
(a session dated before the case opened is refused at the field), and closes mediation
with an agreement whose PDF appears among the case's documents."""
from datetime import timedelta
from zoneinfo import ZoneInfo

from app.extensions import db
from app.models import Dispute, MediationSession
from tests.browser.conftest import screenshot
from tests.browser.test_login import login
from tests.disputes.conftest import hotline, process, world  # noqa: F401  (fixtures)
from tests.disputes.test_process import start_mediation


def test_a_mediator_records_a_session_and_reaches_an_agreement(app, client, world, login_as, new_page):  # noqa: F811
    dispute_id, _street = start_mediation(app, client, world, login_as, "GD-WEB-1")
    opened = db.session.get(Dispute, dispute_id).created_at.astimezone(ZoneInfo("Asia/Shanghai")).date()

    page = new_page()
    login(page, "mediator_qz")
    page.get_by_test_id("main-nav").get_by_text("纠纷调解").click()
    page.get_by_test_id("disputes-open").get_by_role("link").first.click()
    assert "世纪华庭" in page.get_by_test_id("dispute-facts").inner_text()

    page.get_by_label("调解日期").fill((opened - timedelta(days=3)).isoformat())
    page.get_by_label("地点").fill("乾州街道人民调解室")
    page.get_by_label("参加人员").fill("李女士；乾元物业项目经理彭丽")
    page.get_by_label("调解记录").fill("双方陈述意见，物业同意一周内修复电梯。")
    page.get_by_role("button", name="保存调解记录").click()
    page.locator('[data-field-error="held_on"]').wait_for()
    assert "不能早于立案日期" in page.locator('[data-field-error="held_on"]').inner_text()
    assert db.session.scalar(db.select(db.func.count(MediationSession.id))) == 0

    page.get_by_label("调解日期").fill(opened.isoformat())
    page.get_by_role("button", name="保存调解记录").click()
    page.get_by_text("调解记录已保存").wait_for()
    assert "物业同意一周内修复电梯" in page.get_by_test_id("sessions").inner_text()
    screenshot(page, "dispute-session-recorded")

    page.goto("/inbox")
    page.get_by_test_id("task-row").filter(has_text="人民调解").get_by_test_id("task-link").click()
    page.get_by_label("达成调解协议").check()
    page.get_by_label("协议内容（当事人约定的条款）").fill("一、乾元物业于 5 月 15 日前修复 3 栋电梯。")
    page.get_by_label("履行方式和期限").fill("物业公司 5 月 15 日前履行，街道监督。")
    page.get_by_test_id("complete").click()
    page.get_by_text("已办理").wait_for()
    page.goto(f"/disputes/{dispute_id}")
    assert "人民调解协议书" in page.get_by_test_id("dispute-documents").inner_text()
    assert "待回访" in page.get_by_test_id("dispute-status").inner_text()
