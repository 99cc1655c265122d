"""In the browser: a street office opens an emergency takeover, an ineligible candidate is
refused at the field with its reason, the proposal goes through with a public-benefit
provider marked as the exception, the street office head approves it, and the housing
center finds it in the list of takeovers with its next deadline."""
from app.extensions import db
from app.models import EmergencyTakeover
from tests.browser.conftest import screenshot
from tests.browser.test_login import login
from tests.takeover.conftest import bank_url, clock, processes, world  # noqa: F401  (fixtures)


def test_a_street_office_proposes_and_its_head_approves_an_emergency_takeover(world, new_page):  # noqa: F811
    page = new_page()
    login(page, "qz_staff")
    page.get_by_test_id("main-nav").get_by_text("应急接管").click()
    page.get_by_role("link", name="发起应急接管").click()
    page.get_by_label("小区", exact=True).select_option(label="世纪华庭")
    page.get_by_label("原物业企业撤离").check()
    page.get_by_label("小区现状").fill("原物业企业 2 月底撤场，垃圾无人清运，门岗无人值守。")
    page.get_by_role("button", name="发起并提出人选").click()
    page.get_by_test_id("task-name").wait_for()
    assert "提出应急服务企业人选和服务期" in page.get_by_test_id("task-name").inner_text()

    candidates = page.get_by_label("应急服务企业人选")
    assert "未监管物业（不符合：未纳入物业服务费资金监管）" in candidates.inner_text()
    candidates.select_option([str(world["good"].id), str(world["unsupervised"].id)])
    page.get_by_label("服务期开始日期").fill("2026-03-03")
    page.get_by_label("服务期结束日期").fill("2026-05-31")
    page.get_by_test_id("complete").click()
    error = page.locator('[data-field-error="candidate_ids"]')
    error.wait_for()
    assert "未监管物业：未纳入物业服务费资金监管" in error.inner_text()
    screenshot(page, "takeover-ineligible-candidate")
    takeover = db.session.scalar(db.select(EmergencyTakeover))
    assert takeover.status == "proposing" and takeover.candidates == []

    page.get_by_label("应急服务企业人选").select_option([str(world["public"].id), str(world["good"].id)])
    page.get_by_test_id("complete").click()
    page.get_by_text("已办理").wait_for()

    head = new_page()
    login(head, "qz_head")
    head.goto("/inbox")
    head.get_by_test_id("task-row").filter(has_text="街道办事处负责人审批").get_by_test_id("task-link").click()
    head.get_by_label("批准", exact=True).check()
    head.get_by_label("批准承接的企业").select_option(label="城投公益物业（公益性基础服务企业，例外）")
    head.get_by_label("审批意见").fill("公益企业先行托底，服务期内组织业主选聘。")
    head.get_by_test_id("complete").click()
    head.get_by_text("已办理").wait_for()
    head.goto(f"/takeovers/{takeover.id}")
    assert "待住保中心备案" in head.get_by_test_id("takeover-status").inner_text()
    assert "例外" in head.get_by_test_id("takeover-candidates").inner_text()
    assert "2026-03-03 — 2026-05-31" in head.get_by_test_id("takeover-period").inner_text()
    screenshot(head, "takeover-approved")

    center = new_page()
    login(center, "center")
    center.get_by_test_id("main-nav").get_by_text("应急接管").click()
    row = center.get_by_test_id("takeover-row").filter(has_text="世纪华庭")
    assert "待住保中心备案" in row.inner_text()
    assert "住保中心备案登记" in row.get_by_test_id("takeover-deadline").inner_text()
