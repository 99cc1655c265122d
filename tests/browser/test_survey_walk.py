"""In the browser: the housing center opens this year's satisfaction survey for a
community; an owner, not logged in, opens the link a QR slip of the sheet encodes, answers
on a phone-sized screen and is thanked; the same link cannot answer twice."""
from app.extensions import db
from app.models import SatisfactionSurvey, SurveyAnswer
from app.services import surveys
from tests.browser.conftest import screenshot
from tests.browser.test_login import login
from tests.fieldwork.conftest import clock, world  # noqa: F401  (fixtures)


def test_an_owner_answers_the_survey_from_the_qr_link(app, world, factory, browser, live_server, new_page):  # noqa: F811
    factory.user("housing_center", username="zhubao_survey")
    page = new_page()
    login(page, "zhubao_survey")
    page.get_by_test_id("main-nav").get_by_text("满意度调查").click()
    page.get_by_role("link", name="发起调查").click()
    page.get_by_label("小区").select_option(label="世纪华庭（乾州街道，100 户）")
    page.get_by_label("户数").fill("12")
    page.get_by_role("button", name="发起调查").click()
    page.get_by_text("满意度调查已发起").wait_for()
    survey = db.session.scalar(db.select(SatisfactionSurvey))
    with page.expect_response(lambda r: r.url.endswith(f"/surveys/{survey.id}/qr.pdf")) as sheet:
        page.evaluate("url => fetch(url)", f"/surveys/{survey.id}/qr.pdf")
    assert sheet.value.status == 200 and sheet.value.headers["content-type"] == "application/pdf"

    with app.test_request_context(base_url=live_server):
        link = surveys.sheet_rows(survey)[6]["url"]  # slip no. 7 of the sheet
    assert link.startswith(live_server + "/s/2026/")
    owner = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        phone = owner.new_page()
        phone.goto(link)
        assert "世纪华庭" in phone.content() and "第 7 号" in phone.content()
        for question, value in (("attitude", "5"), ("cleanliness", "4"), ("security", "4"), ("maintenance", "3")):
            phone.locator(f'input[name="{question}"][value="{value}"]').check()
        phone.get_by_role("button", name="提交问卷").click()
        phone.locator('[data-field-error="overall"]').wait_for()  # one question left unanswered
        assert db.session.scalar(db.select(db.func.count(SurveyAnswer.id))) == 0
        phone.locator('input[name="overall"][value="4"]').check()
        phone.get_by_role("button", name="提交问卷").click()
        phone.get_by_test_id("thanks").wait_for()
        screenshot(phone, "survey-answered")
        phone.goto(link)
        assert "每户只能提交一次" in phone.get_by_test_id("refused").inner_text()
    finally:
        owner.close()
    answer = db.session.scalar(db.select(SurveyAnswer))
    assert answer.scores == {"attitude": 5, "cleanliness": 4, "security": 4, "maintenance": 3, "overall": 4}
