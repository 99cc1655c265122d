"""The demo data carries this year's default scoring standard; with every bpmn/ file
deployed (the rating process picks up both DMN tables), the demo housing center opens the
year and the demo fire brigade finds its scoring tasks in its inbox."""
from pathlib import Path

from app.engine import calendar
from app.engine.calendar import SHANGHAI, now
from app.engine.deploy import deploy_directory
from app.extensions import db
from app.models import Community, Evaluation, ProcessModelVersion
from app.services import demo, scoring


def test_demo_standard_and_opening_the_year(app):
    calendar.seed()
    deploy_directory(Path(__file__).resolve().parents[2] / "bpmn")
    demo.seed()
    demo.seed()
    year = now().astimezone(SHANGHAI).year
    standard = scoring.for_year(year)
    assert standard is not None and len(standard.items) == 12
    rating = db.session.scalar(db.select(ProcessModelVersion).where(
        ProcessModelVersion.process_id == "evaluation_rating"))
    assert sorted(rating.dmn_files) == ["community_grade.dmn", "star_rating.dmn"]

    center = app.test_client()
    center.post("/login", data={"username": "zhubao", "password": demo.DEMO_PASSWORD})
    assert "评分标准" in center.get("/evaluation/").get_data(as_text=True)
    center.post("/evaluation/open", data={"year": year, "scoring_due": f"{year}-12-31"})
    served = db.session.scalar(db.select(db.func.count(Community.id)).where(Community.enterprise_id.is_not(None)))
    assert db.session.scalar(db.select(db.func.count(Evaluation.id))) == served > 0
    fire = app.test_client()
    fire.post("/login", data={"username": "firebrigade", "password": demo.DEMO_PASSWORD})
    assert "部门评分" in fire.get("/inbox").get_data(as_text=True)
