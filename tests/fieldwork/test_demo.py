"""The demo data shows fieldwork: an inspection with open findings on the demo enterprise's
dashboard, and this year's survey with enough answers for results; seeding twice changes nothing."""
from pathlib import Path

from app.engine import calendar
from app.engine.deploy import deploy_directory
from app.extensions import db
from app.models import InspectionFinding, SatisfactionSurvey, SurveyAnswer
from app.services import demo


def test_demo_fieldwork(app):
    calendar.seed()
    deploy_directory(Path(__file__).resolve().parents[2] / "bpmn")
    demo.seed()
    demo.seed()
    assert db.session.scalar(db.select(db.func.count(InspectionFinding.id))) == 2
    assert db.session.scalar(db.select(db.func.count(SurveyAnswer.id))) == 12
    survey = db.session.scalar(db.select(SatisfactionSurvey))
    enterprise = app.test_client()
    enterprise.post("/login", data={"username": "enterprise", "password": demo.DEMO_PASSWORD})
    assert 'data-testid="findings-open">2<' in enterprise.get("/").get_data(as_text=True)
    assert 'data-testid="rate"' in enterprise.get(f"/surveys/{survey.id}").get_data(as_text=True)
