"""In the browser: an owner, not logged in, answers the satisfaction survey on a phone from
the link of a QR slip, the answer that makes the survey count (SURVEY_MIN_ANSWERS); the
year is evaluated; then the owner opens the community's public page and sees the
enterprise, the stars and grade this result rates (in force once final), the total with
the satisfaction line of the breakdown, the QR code and the disclosure, and nothing of who
answered or what they wrote."""
from app.extensions import db
from app.models import SurveyAnswer, SurveyHousehold
from app.services import evaluation, surveys
from tests.browser.conftest import screenshot
from tests.evaluation.conftest import (DUE, YEAR, clock, evaluation_of, processes, score_everything,  # noqa: F401
                                      scorers, world)

GOOD = {"attitude": 5, "cleanliness": 4, "security": 5, "maintenance": 4, "overall": 5}


def test_an_owner_answers_from_the_qr_slip_then_reads_the_public_page(app, world, scorers, browser,  # noqa: F811
                                                                      live_server):
    community = world["communities"]["shiji"]
    survey = surveys.open_survey(scorers["housing_center"].user, community.id, households=12)
    households = db.session.scalars(db.select(SurveyHousehold).where(SurveyHousehold.survey_id == survey.id)
                                    .order_by(SurveyHousehold.number)).all()
    enough = app.config["SURVEY_MIN_ANSWERS"]
    for n, household in enumerate(households[:enough - 1]):  # all but the last answer needed
        surveys.answer(YEAR, household.token, {**GOOD, "overall": 2} if n == 0 else GOOD)
    assert not surveys.results(survey)["shown"]
    with app.test_request_context(base_url=live_server):
        slip = surveys.sheet_rows(survey)[enough - 1]  # the next slip of the sheet
    assert slip["url"].startswith(live_server + f"/s/{YEAR}/")

    owner = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
    owner.set_default_timeout(15000)
    try:
        phone = owner.new_page()
        phone.goto(slip["url"])
        assert "世纪华庭" in phone.content() and f"第 {enough} 号" in phone.content()
        for question in ("attitude", "cleanliness", "security", "maintenance", "overall"):
            phone.locator(f'input[name="{question}"][value="4"]').check()
        phone.get_by_label("意见和建议（选填）").fill("夜间巡逻再勤一些")
        phone.get_by_role("button", name="提交问卷").click()
        phone.get_by_test_id("thanks").wait_for()
        assert db.session.scalar(db.select(db.func.count(SurveyAnswer.id))) == enough
        assert surveys.results(survey)["rate"] == 90  # 9 of 10 satisfied overall

        evaluation.open_year(scorers["housing_center"].user, YEAR, DUE)
        score_everything(world, scorers, {})  # full marks from every department
        ev = evaluation_of(community)
        assert ev.total == 99 and ev.status == "disclosure"  # 100 − 10 × (100 − 90) %

        phone.goto(f"{live_server}/public/evaluation/communities/{community.id}")
        assert phone.get_by_test_id("enterprise").inner_text() == "吉首市乾元物业服务有限公司"
        # 乾元: (99 + 100) / 2 = 99.5 → 5 stars, disclosed as this result's; in force once final.
        assert "本次评定：企业星级 5 星，小区等级 A" in phone.get_by_test_id("rated").inner_text()
        assert phone.get_by_test_id("stars").inner_text() == "未评定"
        assert phone.get_by_test_id("grade").inner_text() == "未评定"
        assert phone.get_by_test_id("total").inner_text() == "99.00"
        breakdown = phone.get_by_test_id("breakdown").inner_text()
        assert "业主满意度 · 业主满意度 90.0%（10 份答卷）" in breakdown and "-1.00" in breakdown
        assert phone.get_by_test_id("qr").evaluate("img => img.complete && img.naturalWidth > 0")
        assert "2026 年度物业服务考评结果公示（吉首市乾元物业服务有限公司）" in phone.get_by_test_id("disclosure").inner_text()
        text = phone.locator("body").inner_text()
        assert "夜间巡逻" not in text and f"第 {enough} 号" not in text and slip["url"] not in phone.content()
        screenshot(phone, "survey-then-public-community")
    finally:
        owner.close()
