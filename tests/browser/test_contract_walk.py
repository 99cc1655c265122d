"""In the browser: an enterprise files a signed contract; the housing center adds two
per-clause revision opinions (one refused at the field until it has its proposed wording)
and returns the contract; the enterprise answers both (one accepted, one argued) and
submits the revised contract."""
from app.extensions import db
from app.models import Contract, RevisionOpinion
from tests.browser.conftest import screenshot
from tests.browser.test_login import login
from tests.contracts.conftest import PDF, processes, world  # noqa: F401  (fixtures)


def test_reviewer_adds_two_opinions_and_the_enterprise_answers_them(new_page, factory, world, tmp_path):  # noqa: F811
    factory.user("enterprise", org=world["enterprise"], username="qianyuan")
    factory.user("housing_center", username="zhubao")
    signed, revised = tmp_path / "物业服务合同.pdf", tmp_path / "物业服务合同（修订）.pdf"
    signed.write_bytes(PDF)
    revised.write_bytes(PDF)

    ent = new_page()
    login(ent, "qianyuan")
    ent.get_by_test_id("main-nav").get_by_text("合同备案").click()
    ent.get_by_test_id("new-contract").click()
    ent.get_by_label("合同类型").select_option("regular")
    ent.get_by_label("小区").select_option(label="世纪华庭（乾州街道）")
    ent.get_by_label("甲方").fill("世纪华庭业主委员会")
    ent.get_by_label("签订日期").fill("2026-02-20")
    ent.get_by_label("起始日期").fill("2026-03-01")
    ent.get_by_label("终止日期").fill("2029-02-28")
    ent.get_by_label("物业费（元/平方米·月）").fill("1.20")
    ent.get_by_label("服务等级").select_option("level2")
    ent.get_by_label("合同文件（PDF）").set_input_files(str(signed))
    ent.get_by_role("button", name="报送备案").click()
    ent.get_by_text("合同已报送备案").wait_for()
    contract = db.session.scalar(db.select(Contract))

    center = new_page()
    login(center, "zhubao")
    center.goto("/inbox")
    center.get_by_test_id("task-row").filter(has_text="审查合同").get_by_test_id("task-link").click()
    panel = center.get_by_test_id("opinion-form")
    panel.get_by_label("条款").select_option(label="第 4 条 物业服务费用及计费依据")
    panel.get_by_label("意见类型").select_option("amend")
    panel.get_by_label("删改意见", exact=True).fill("收费标准高于二级服务等级的指导价")
    panel.get_by_label("建议条文").fill("物业服务费按每月每平方米 1.00 元计收。")
    panel.get_by_role("button", name="添加删改意见").click()
    center.get_by_text("删改意见已添加").wait_for()

    panel = center.get_by_test_id("opinion-form")
    panel.get_by_label("意见类型").select_option("add")
    panel.get_by_label("删改意见", exact=True).fill("缺少物业服务费资金监管条款")
    panel.get_by_role("button", name="添加删改意见").click()
    center.locator('[data-field-error="opinion-proposed_wording"]').wait_for()  # refused at the field
    assert "修改或增加条款时须给出建议条文" in center.locator('[data-field-error="opinion-proposed_wording"]').inner_text()
    panel = center.get_by_test_id("opinion-form")
    panel.get_by_label("建议条文").fill("业主缴纳的物业服务费缴存至市住保中心监管账户。")
    panel.get_by_role("button", name="添加删改意见").click()
    center.get_by_text("删改意见已添加").wait_for()
    assert center.get_by_test_id("opinion-row").count() == 2
    center.get_by_test_id("open-task").click()
    center.get_by_label("退回修改").check()
    center.get_by_label("审查意见").fill("请按删改意见修改后重新签订")
    screenshot(center, "contract-review-opinions")
    center.get_by_test_id("complete").click()
    center.get_by_text("已办理").wait_for()

    ent.goto("/inbox")
    ent.get_by_test_id("task-row").filter(has_text="签订或修改合同并报送").get_by_test_id("task-link").click()
    first, second = ent.get_by_test_id("answer-1"), ent.get_by_test_id("answer-2")
    assert "收费标准高于二级服务等级的指导价" in first.inner_text()
    first.get_by_label("采纳，已按意见修改").check()
    first.get_by_label("说明", exact=True).fill("已改为每月每平方米 1.00 元")
    first.get_by_role("button", name="保存答复").click()
    ent.get_by_text("答复已保存").wait_for()
    second = ent.get_by_test_id("answer-2")
    second.get_by_label("不采纳，说明理由").check()
    second.get_by_role("button", name="保存答复").click()
    ent.get_by_text("不采纳时须说明理由").first.wait_for()  # refused: an argument needs its reasons
    second = ent.get_by_test_id("answer-2")
    second.get_by_label("不采纳，说明理由").check()
    second.get_by_label("说明", exact=True).fill("资金监管已在第 5 条约定")
    second.get_by_role("button", name="保存答复").click()
    ent.get_by_text("答复已保存").wait_for()
    assert "资金监管已在第 5 条约定" in ent.get_by_test_id("answer-2").inner_text()

    ent.get_by_test_id("open-task").click()
    ent.get_by_label("物业费（元/平方米·月）").fill("1.00")
    ent.get_by_label("合同文件（PDF）").set_input_files(str(revised))
    screenshot(ent, "contract-answers")
    ent.get_by_test_id("complete").click()
    ent.get_by_text("已办理").wait_for()

    db.session.expire_all()
    contract = db.session.get(Contract, contract.id)
    assert contract.rounds == 2 and contract.status == "submitted" and str(contract.fee_per_sqm) == "1.00"
    answers = db.session.scalars(db.select(RevisionOpinion.answer).order_by(RevisionOpinion.seq)).all()
    assert answers == ["accept", "argue"]
