"""Evaluation fixtures: the processes and decision tables deployed, the default scoring
standard of the year, three enterprises serving four communities in two streets, and one
scorer for each of the five scoring departments."""
from datetime import date, datetime
from pathlib import Path

import pytest

from app.engine import calendar
from app.engine.deploy import deploy
from app.extensions import db
from app.models import Evaluation, HumanTask
from app.services import scoring

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
YEAR = 2026
DUE = date(2026, 12, 15)
TODAY = datetime(2026, 11, 2, 10, 0, tzinfo=calendar.SHANGHAI)  # a Monday in the evaluation season


@pytest.fixture(autouse=True)
def clock():
    """The engine clock pinned in the evaluation season, so dates and deadlines are the same every run."""
    calendar.set_clock(TODAY)
    yield TODAY
    calendar.set_clock(None)


def read(name: str) -> str:
    return (BPMN / name).read_text(encoding="utf-8")


def deploy_rating(star_dmn: str | None = None):
    return deploy("evaluation_rating", read("evaluation_rating.bpmn"),
                  {"star_rating.dmn": star_dmn or read("star_rating.dmn"),
                   "community_grade.dmn": read("community_grade.dmn")})


@pytest.fixture
def processes(app):
    deploy("annual_evaluation", read("annual_evaluation.bpmn"))
    deploy("year_end_settlement", read("year_end_settlement.bpmn"))
    deploy_rating()


@pytest.fixture
def world(app, factory, processes):
    qianzhou, donghe = factory.street_office("乾州街道"), factory.street_office("峒河街道")
    qianyuan = factory.enterprise(name="吉首市乾元物业服务有限公司")
    donghe_e = factory.enterprise(name="湘西峒河物业管理有限公司")
    dexin = factory.enterprise(name="吉首市德馨物业服务有限公司")
    communities = {
        "shiji": factory.community(enterprise=qianyuan, street_office=qianzhou, name="世纪华庭"),
        "xincheng": factory.community(enterprise=qianyuan, street_office=qianzhou, name="乾州新城"),
        "wan": factory.community(enterprise=donghe_e, street_office=donghe, name="峒河湾"),
        "huayuan": factory.community(enterprise=dexin, street_office=donghe, name="民族花园"),
    }
    standard = scoring.seed_default(YEAR)
    db.session.commit()
    return {"streets": {"qianzhou": qianzhou, "donghe": donghe}, "communities": communities, "standard": standard,
            "enterprises": {"qianyuan": qianyuan, "donghe": donghe_e, "dexin": dexin}}


@pytest.fixture
def scorers(world, login_as):
    """A logged-in client per scoring department (street offices: one per street)."""
    return {"housing_center": login_as("housing_center"), "natural_resources": login_as("natural_resources"),
            "fire_brigade": login_as("fire_brigade"), "market_regulation": login_as("market_regulation"),
            "street_office:qianzhou": login_as("street_office", org=world["streets"]["qianzhou"]),
            "street_office:donghe": login_as("street_office", org=world["streets"]["donghe"])}


def evaluation_of(community) -> Evaluation:
    return db.session.scalar(db.select(Evaluation).where(Evaluation.community_id == community.id,
                                                         Evaluation.year == YEAR))


def open_tasks(ev: Evaluation, spec_id: str | None = None) -> list[HumanTask]:
    query = db.select(HumanTask).where(HumanTask.instance_id == ev.instance_id, HumanTask.status == "open")
    if spec_id:
        query = query.where(HumanTask.spec_id == spec_id)
    return list(db.session.scalars(query.order_by(HumanTask.id)))


def fields_for(ev, department, wanted):
    data = {}
    for item in scoring.items_of(ev.standard, department):
        data[f"i{item.id}"] = wanted.get(item.code, "0" if item.is_bonus else str(item.max_points))
    return data


def client_for(scorers, department, community):
    if department == "street_office":
        street = "qianzhou" if community.street_office.name == "乾州街道" else "donghe"
        return scorers[f"street_office:{street}"]
    return scorers[department]


def complete(client, task, data):
    return client.post(f"/tasks/{task.id}", data={"action": "complete", **data}, follow_redirects=True)


def score_everything(world, scorers, scores):
    for name, community in world["communities"].items():
        ev = evaluation_of(community)
        tasks = open_tasks(ev, "score")
        assert sorted(t.role for t in tasks) == sorted(["housing_center", "natural_resources", "fire_brigade",
                                                        "market_regulation", "street_office"])
        for task in tasks:
            response = complete(client_for(scorers, task.role, community), task,
                                fields_for(ev, task.role, scores.get(name, {}).get(task.role, {})))
            assert response.status_code == 200
            assert db.session.get(HumanTask, task.id).status == "completed", response.get_data(as_text=True)[-2000:]
