"""The evaluation with its real feeders: a daily inspection's finding and the owners'
satisfaction survey move the community's total, each line traced to its finding or survey;
a finding voided on appeal before the year opens deducts nothing."""
from decimal import Decimal

from app.extensions import db
from app.models import SurveyHousehold
from app.services import evaluation, inspections, surveys
from tests.evaluation.conftest import DUE, YEAR, evaluation_of, score_everything

GOOD = {"attitude": 5, "cleanliness": 4, "security": 5, "maintenance": 4, "overall": 5}
POOR = {**GOOD, "overall": 2}


def test_inspection_findings_and_satisfaction_feed_the_total(app, world, scorers, factory):
    shiji, xincheng = world["communities"]["shiji"], world["communities"]["xincheng"]
    inspector = scorers["fire_brigade"].user
    kept = inspections.record(inspector, {"community_id": shiji.id, "items": ["消防安全"], "findings": [
        {"item": "消防安全", "description": "消防通道堆放杂物", "points": "3", "days": 5}]}).findings[0]
    voided = inspections.record(inspector, {"community_id": xincheng.id, "items": ["消防安全"], "findings": [
        {"item": "消防安全", "description": "灭火器过期", "points": "4", "days": 5}]}).findings[0]
    enterprise_user = factory.user("enterprise", org=world["enterprises"]["qianyuan"])
    inspections.appeal(enterprise_user, voided.id, "灭火器已于检查前一日更换，附更换记录")
    inspections.decide_appeal(scorers["housing_center"].user, voided.id, True, "申诉属实")

    survey = surveys.open_survey(scorers["housing_center"].user, shiji.id, households=12)
    households = db.session.scalars(db.select(SurveyHousehold).where(SurveyHousehold.survey_id == survey.id)
                                    .order_by(SurveyHousehold.number)).all()
    for n, household in enumerate(households[:10]):  # 8 of 10 satisfied overall → 80 %
        surveys.answer(YEAR, household.token, POOR if n < 2 else GOOD)

    evaluation.open_year(scorers["housing_center"].user, YEAR, DUE)
    score_everything(world, scorers, {})  # every department gives full marks

    ev = evaluation_of(shiji)
    inputs = {line["source"]: line for line in ev.breakdown["lines"] if line["kind"] == "input"}
    assert inputs["inspection"]["points"] == "-3.00" and inputs["inspection"]["source_id"] == kept.id
    assert inputs["survey"]["points"] == "-2.00" and inputs["survey"]["source_id"] == survey.id  # 10 × (100 − 80) %
    assert ev.total == Decimal("95.00")
    assert evaluation_of(xincheng).total == Decimal("100.00")  # the upheld appeal voided the deduction
    assert not [x for x in evaluation_of(xincheng).breakdown["lines"] if x["kind"] == "input"]
