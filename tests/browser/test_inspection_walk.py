"""In the browser: a fire-brigade inspector records an inspection on a phone-sized screen
(a deduction above the maximum is refused at the field), with a photo; the enterprise sees
the finding on its home page and appeals; the housing center upholds the appeal."""
from app.extensions import db
from app.models import InspectionFinding, InspectionPhoto
from tests.browser.conftest import screenshot
from tests.browser.test_login import login
from tests.fieldwork.conftest import PNG, clock, world  # noqa: F401  (fixtures)


def test_an_inspection_on_a_phone_then_appeal_and_decision(app, world, factory, browser, live_server, new_page,
                                                           tmp_path):  # noqa: F811
    factory.user("fire_brigade", username="xiaofang")
    factory.user("enterprise", username="qianyuan", org=world["enterprise"])
    factory.user("housing_center", username="zhubao_fw")
    photo = tmp_path / "现场.png"
    photo.write_bytes(PNG)

    phone_context = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 390, "height": 844},
                                        is_mobile=True)
    try:
        phone = phone_context.new_page()
        login(phone, "xiaofang")
        phone.goto("/inspections/new")
        phone.get_by_label("小区").select_option(label="世纪华庭（乾州街道）")
        phone.get_by_label("消防安全").check()
        row = phone.get_by_test_id("finding-row").first
        row.get_by_label("检查项目").select_option("消防安全")
        row.get_by_label("发现的问题").fill("3 栋消防通道堆放杂物")
        row.get_by_label("扣分").fill("25")
        phone.get_by_label("现场照片").set_input_files(str(photo))
        phone.get_by_role("button", name="保存检查记录").click()
        phone.locator('[data-field-error="findings-0-points"]').wait_for()
        assert db.session.scalar(db.select(db.func.count(InspectionFinding.id))) == 0
        phone.get_by_test_id("finding-row").first.get_by_label("扣分").fill("2.5")
        phone.get_by_label("现场照片").set_input_files(str(photo))  # a file input is empty again after a refusal
        phone.get_by_role("button", name="保存检查记录").click()
        phone.get_by_text("检查记录已保存").wait_for()
        phone.get_by_test_id("photos").locator("img").wait_for()
        screenshot(phone, "inspection-recorded-phone")
    finally:
        phone_context.close()
    assert db.session.scalar(db.select(db.func.count(InspectionPhoto.attachment_id))) == 1

    page = new_page()
    login(page, "qianyuan")
    assert page.get_by_test_id("findings-open").inner_text() == "1"
    page.get_by_test_id("dashboard-findings").get_by_role("link").first.click()
    page.get_by_label("申诉理由").fill("杂物系业主装修临时堆放，已当日清理")
    page.get_by_role("button", name="提交申诉").click()
    page.get_by_text("申诉已提交").wait_for()

    center = new_page()
    login(center, "zhubao_fw")
    center.goto("/inspections/?status=appealed")
    center.get_by_test_id("findings").get_by_role("link").first.click()
    center.get_by_label("申诉成立，扣分作废").check()
    center.get_by_label("说明").fill("经核实属业主行为")
    center.get_by_role("button", name="保存决定").click()
    center.get_by_test_id("decision").wait_for()
    assert db.session.scalar(db.select(InspectionFinding)).status == "void"
