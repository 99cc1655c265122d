"""Owner satisfaction: a survey per community per year, answered without login from a
household's link (the one its QR code encodes); one answer per household; another year's
link refused; results only from the minimum number of answers; the evaluation feed."""
import io
from datetime import datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.engine.calendar import SHANGHAI
from app.extensions import db
from app.models import AuditEvent, SatisfactionSurvey, SurveyAnswer, SurveyHousehold
from app.services import evaluation_inputs, surveys

ANSWER = {"attitude": "5", "cleanliness": "4", "security": "4", "maintenance": "3", "overall": "4",
          "comment": "我是 3 栋 502 张三，电话 13800000000"}


@pytest.fixture
def app_config():
    return {"SURVEY_MIN_ANSWERS": 3}


def _open(login_as, community, households=5):
    center = login_as("housing_center")
    response = center.post("/surveys/new", data={"community_id": community.id, "households": households})
    assert response.status_code == 302, response.get_data(as_text=True)
    return center, db.session.scalar(db.select(SatisfactionSurvey).where(SatisfactionSurvey.community_id == community.id)
                                   .order_by(SatisfactionSurvey.id.desc()).limit(1))


def _links(app, survey):
    """The links the QR sheet is made of."""
    with app.test_request_context():
        return [row["url"].replace("http://localhost", "") for row in surveys.sheet_rows(survey)]


def test_open_print_and_answer_once_per_household(app, client, world, login_as):
    center, survey = _open(login_as, world["community"])
    assert survey.year == 2026 and survey.enterprise_id == world["enterprise"].id
    links = _links(app, survey)
    assert len(links) == 5 and len(set(links)) == 5 and all(link.startswith("/s/2026/") for link in links)
    assert all(len(link.rsplit("/", 1)[1]) >= 32 for link in links)  # unguessable tokens
    pdf = center.get(f"/surveys/{survey.id}/qr.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and pdf.mimetype == "application/pdf"

    page = client.get(links[0])  # no login
    assert page.status_code == 200 and "世纪华庭" in page.get_data(as_text=True) and "第 1 号" in page.get_data(as_text=True)
    missing = client.post(links[0], data={**ANSWER, "overall": ""})
    assert missing.status_code == 422 and 'data-field-error="overall"' in missing.get_data(as_text=True)
    assert client.post(links[0], data=ANSWER).status_code == 200
    again = client.post(links[0], data={**ANSWER, "overall": "1"})
    assert again.status_code == 409 and "本户已经提交过问卷，每户只能提交一次。" in again.get_data(as_text=True)
    assert client.get(links[0]).status_code == 409
    rows = db.session.scalars(db.select(SurveyAnswer)).all()
    assert len(rows) == 1 and rows[0].scores["overall"] == 4
    assert client.get("/s/2026/not-a-real-token").status_code == 404


def test_another_years_link_is_refused(app, client, world, login_as, clock):
    clock(datetime(2025, 11, 3, 10, 0, tzinfo=SHANGHAI))
    _center, old = _open(login_as, world["community"])
    old_link = _links(app, old)[0]
    assert old_link.startswith("/s/2025/")
    token = old_link.rsplit("/", 1)[1]
    wrong_year = client.get(f"/s/2026/{token}")  # a 2025 link with the year changed
    assert wrong_year.status_code == 410
    assert "此链接属于 2025 年度的满意度调查，不能用于其他年度。" in wrong_year.get_data(as_text=True)
    clock(datetime(2026, 10, 12, 10, 0, tzinfo=SHANGHAI))
    stale = client.post(old_link, data=ANSWER)  # last year's slip, used this year
    assert stale.status_code == 410 and db.session.scalar(db.select(db.func.count(SurveyAnswer.id))) == 0
    # This year's survey of the same community has its own, new links.
    _center, current = _open(login_as, world["community"])
    assert current.year == 2026 and set(_links(app, current)).isdisjoint({old_link})


def test_one_survey_per_community_and_year_and_streets_stay_in_their_area(app, world, login_as):
    center, _survey = _open(login_as, world["community"])
    twice = center.post("/surveys/new", data={"community_id": world["community"].id, "households": 5})
    assert twice.status_code == 422 and "该小区 2026 年度的满意度调查已经发起。" in twice.get_data(as_text=True)
    street = login_as("street_office", org=world["street"])
    refused = street.post("/surveys/new", data={"community_id": world["far"].id, "households": 5})
    assert refused.status_code == 422 and db.session.scalar(db.select(db.func.count(SatisfactionSurvey.id))) == 1
    assert login_as("enterprise", org=world["enterprise"]).post(
        "/surveys/new", data={"community_id": world["community"].id}).status_code == 403
    bad = center.post("/surveys/new", data={"community_id": world["far"].id, "households": 0})
    assert bad.status_code == 422 and 'data-field-error="households"' in bad.get_data(as_text=True)


def test_results_only_from_the_minimum_and_without_personal_data(app, client, world, login_as):
    center, survey = _open(login_as, world["community"])
    links = _links(app, survey)
    for link, overall in zip(links[:2], ("5", "2")):
        client.post(link, data={**ANSWER, "overall": overall})
    page = center.get(f"/surveys/{survey.id}").get_data(as_text=True)
    assert 'data-testid="too-few"' in page and 'data-testid="rate"' not in page
    assert [line for line in evaluation_inputs.collect(world["enterprise"].id, world["community"].id, 2026)
            if line.source == "survey"] == []
    center.post(links[2], data={**ANSWER, "overall": "4"})  # answered from a logged-in browser
    page = center.get(f"/surveys/{survey.id}").get_data(as_text=True)
    assert 'data-testid="rate">66.7%<' in page and "too-few" not in page
    assert "张三" not in page and "13800000000" not in page  # comments are never shown
    events = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "survey.answer")).all()
    assert len(events) == 3 and all("张三" not in str(e.after) for e in events)
    assert {(e.actor_id, e.actor_name) for e in events} == {(None, "")}  # nobody is linked to an answer
    lines = evaluation_inputs.collect(world["enterprise"].id, world["community"].id, 2026)
    assert [(line.item_code, line.points, line.source, line.source_id) for line in lines] == [
        ("SATISFACTION", Decimal("-3.33"), "survey", survey.id)]  # 10 × (100 % − 66.7 %)
    export = load_workbook(io.BytesIO(center.get("/surveys/?format=xlsx").data)).active
    assert list(export.iter_rows(min_row=2, values_only=True)) == [(2026, "世纪华庭", "吉首市乾元物业服务有限公司", 3, 5, 66.7)]
    # The enterprise sees its own survey's results; another enterprise does not see it at all.
    assert login_as("enterprise", org=world["enterprise"]).get(f"/surveys/{survey.id}").status_code == 200
    stranger = login_as("enterprise", org=world["other_enterprise"])
    assert stranger.get(f"/surveys/{survey.id}").status_code == 404
    assert stranger.get(f"/surveys/{survey.id}/qr.pdf").status_code == 403
    assert "世纪华庭" not in stranger.get("/surveys/").get_data(as_text=True)
    assert login_as("street_office", org=world["other_street"]).get(f"/surveys/{survey.id}").status_code == 404


def test_a_closed_survey_takes_no_answers(app, client, world, login_as):
    center, survey = _open(login_as, world["community"])
    link = _links(app, survey)[0]
    center.post(f"/surveys/{survey.id}/close")
    closed = client.post(link, data=ANSWER)
    assert closed.status_code == 410 and "本次满意度调查已经结束。" in closed.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(SurveyHousehold.id))) == 5
    assert db.session.scalar(db.select(db.func.count(SurveyAnswer.id))) == 0


def test_a_large_community_gets_its_qr_sheet_in_parts(app, world, login_as):
    center, survey = _open(login_as, world["community"], households=205)
    page = center.get(f"/surveys/{survey.id}").get_data(as_text=True)
    assert "第 1–120 号" in page and "第 121–205 号" in page
    part = center.get(f"/surveys/{survey.id}/qr.pdf?from=201")
    assert part.status_code == 200 and part.data.startswith(b"%PDF") and "201-205" in part.headers["Content-Disposition"]
    assert center.get(f"/surveys/{survey.id}/qr.pdf?from=206").status_code == 404
    with app.test_request_context():
        assert [row["number"] for row in surveys.sheet_rows(survey, 201, surveys.SHEET_SLIPS)] == [201, 202, 203, 204, 205]


@pytest.mark.postgres_only
def test_the_same_household_twice_at_once_stores_one_answer(app, world, login_as):
    import threading
    _center, survey = _open(login_as, world["community"])
    link = _links(app, survey)[0]
    barrier, statuses = threading.Barrier(4), []

    def post(overall):
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post(link, data={**ANSWER, "overall": overall}).status_code)

    threads = [threading.Thread(target=post, args=(str(n),)) for n in (2, 3, 4, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses) == [200, 409, 409, 409]
    assert db.session.scalar(db.select(db.func.count(SurveyAnswer.id))) == 1


def test_a_survey_stays_with_the_enterprise_it_judged(app, world, login_as):
    _center, survey = _open(login_as, world["community"])
    world["community"].enterprise_id = world["other_enterprise"].id  # the owners changed enterprise
    db.session.commit()
    assert login_as("enterprise", org=world["enterprise"]).get(f"/surveys/{survey.id}").status_code == 200
    assert login_as("enterprise", org=world["other_enterprise"]).get(f"/surveys/{survey.id}").status_code == 404
