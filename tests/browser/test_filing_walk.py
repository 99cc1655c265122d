"""In the browser: an enterprise files with its scanned documents, the housing center
returns the filing for supplements, and the enterprise sees what to supplement."""
from app.extensions import db
from app.models import EnterpriseFiling
from tests.browser.conftest import screenshot
from tests.browser.test_login import login
from tests.filing.conftest import PDF, processes  # noqa: F401  (fixture)


def test_enterprise_files_and_center_returns_for_supplement(new_page, factory, processes, tmp_path):  # noqa: F811
    enterprise = factory.enterprise(name="乾元物业服务有限公司")
    factory.user("enterprise", org=enterprise, username="qianyuan")
    factory.user("housing_center", username="zhubao")
    factory.community(street_office=factory.street_office("乾州街道"), name="世纪华庭")
    scan, contract = tmp_path / "营业执照.pdf", tmp_path / "合同.pdf"
    scan.write_bytes(PDF)
    contract.write_bytes(PDF)

    ent = new_page()
    login(ent, "qianyuan")
    ent.get_by_test_id("main-nav").get_by_text("企业备案").click()
    ent.get_by_test_id("start-filing").click()
    ent.get_by_label("注册资本（万元）").fill("500")
    ent.get_by_label("住所").fill("吉首市乾州街道世纪大道 8 号")
    ent.get_by_label("成立日期").fill("2015-06-01")
    ent.get_by_label("经营范围").fill("物业管理")
    ent.get_by_label("法定代表人", exact=True).fill("向东")
    ent.get_by_label("法定代表人身份证号").fill(factory.person_id())
    ent.get_by_label("资质及管理制度").fill("物业管理制度汇编")
    ent.get_by_label("从业人员人数").fill("86")
    ent.get_by_label("项目经理").fill(f"彭丽 {factory.person_id()} 13907430001")
    first = ent.get_by_test_id("communities-0")  # the communities it serves, one row each
    first.get_by_label("小区", exact=True).select_option(label="世纪华庭（乾州街道）")
    first.get_by_label("合同起始日期").fill("2024-01-01")
    first.get_by_label("合同终止日期").fill("2026-12-31")
    second = ent.get_by_test_id("communities-1")
    second.get_by_label("小区名称").fill("武陵新苑")
    second.get_by_label("小区地址").fill("吉首市武陵东路 6 号")
    ent.get_by_label("本企业承诺所填信息及所附材料真实、完整").check()
    ent.get_by_test_id("complete").click()
    ent.locator('[data-field-error="licence_scan"]').wait_for()  # mandatory documents, at the field
    ent.locator('[data-field-error="communities-1-contract_scan"]').wait_for()
    ent.get_by_label("营业执照扫描件").set_input_files(str(scan))
    for row in ("communities-0", "communities-1"):
        ent.get_by_test_id(row).get_by_label("物业服务合同扫描件").set_input_files(str(contract))
    ent.get_by_label("本企业承诺所填信息及所附材料真实、完整").check()
    screenshot(ent, "filing-enterprise-form")
    ent.get_by_test_id("complete").click()
    ent.get_by_text("已办理").wait_for()

    center = new_page()
    login(center, "zhubao")
    center.goto("/inbox")
    center.get_by_test_id("task-row").filter(has_text="审核备案材料").get_by_test_id("task-link").click()
    assert "乾元物业服务有限公司" in center.get_by_test_id("case-summary").inner_text()
    communities = center.get_by_test_id("filing-communities").inner_text()
    assert "世纪华庭" in communities and "尚无服务企业" in communities and "武陵新苑" in communities
    center.get_by_label("退回补正").check()
    center.get_by_test_id("complete").click()
    center.locator('[data-field-error="supplement_items"]').wait_for()
    center.get_by_label("退回补正").check()
    center.get_by_label("需补正的材料").select_option(["licence", "staff"])
    center.get_by_label("审核意见").fill("营业执照已过期，请上传最新版本")
    screenshot(center, "filing-center-return")
    center.get_by_test_id("complete").click()
    center.get_by_text("已办理").wait_for()

    ent.goto("/filing")
    items = ent.get_by_test_id("supplement-items").inner_text()
    assert "营业执照信息或扫描件" in items and "从业人员及项目经理信息" in items
    assert ent.get_by_text("营业执照已过期，请上传最新版本").is_visible()
    screenshot(ent, "filing-enterprise-returned")
    filing = db.session.scalar(db.select(EnterpriseFiling))
    assert filing.status == "returned" and filing.rounds == 1
