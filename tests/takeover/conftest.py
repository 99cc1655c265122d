"""Takeover fixtures: the processes deployed, the sandbox bank as a real HTTP server (escrow
supervision comes from real escrow agreements), and a city with two streets, their heads,
and enterprises of every kind the eligibility check tells apart."""
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.engine import calendar, runtime
from app.engine.deploy import deploy
from app.extensions import db
from app.models import EmergencyTakeover, HumanTask
from app.services import escrow, evaluation, high_risk, scoring, takeover

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def clock():
    calendar.set_clock(MONDAY)
    yield calendar.set_clock
    calendar.set_clock(None)


RATED_YEAR = 2025  # the annual evaluation before the takeovers of March 2026


@pytest.fixture
def processes(app):
    for key in ("emergency_takeover", "high_risk_escalation"):
        deploy(key, (BPMN / f"{key}.bpmn").read_text(encoding="utf-8"))
    deploy("evaluation_rating", (BPMN / "evaluation_rating.bpmn").read_text(encoding="utf-8"),
           {name: (BPMN / name).read_text(encoding="utf-8") for name in ("star_rating.dmn", "community_grade.dmn")})


def rate(enterprise, total: str, year: int = RATED_YEAR) -> int:
    """The annual evaluation's final rating of the enterprise at a community it serves, through
    the seams the evaluation case uses (`evaluation.rate`: the DMN tables decide the stars;
    `evaluation.apply_rating`: the final result puts them in force)."""
    from app.models import Community, Evaluation
    standard = scoring.seed_default(year)
    community = db.session.scalar(db.select(Community).where(Community.enterprise_id == enterprise.id)
                                  .order_by(Community.id))
    ev = Evaluation(year=year, standard_id=standard.id, enterprise_id=enterprise.id, community_id=community.id,
                    scoring_due=date(year, 12, 15), total=Decimal(total), status="final")
    db.session.add(ev)
    db.session.flush()
    stars = evaluation.rate(ev)["stars"]
    evaluation.apply_rating(ev)
    db.session.commit()
    return stars


@pytest.fixture
def bank_url(app):
    from sandbox.bank import create_app as create_bank
    from sandbox.server import serve_in_thread
    url, shutdown = serve_in_thread(create_bank(key_id=app.config["BANK_KEY_ID"], secret=app.config["BANK_SECRET"]))
    app.config["BANK_GATEWAY_URL"] = url
    app.config["BANK_TIMEOUT"] = 2
    yield url
    shutdown()


def supervise(factory, enterprise, center, bank):
    """Put the enterprise under escrow supervision the real way: an agreement and an account
    for a community it serves."""
    community = factory.community(enterprise=enterprise)
    escrow.open_account({"community_id": community.id, "bank_id": bank.id, "payee_account_no": "6222021234567890128",
                         "payee_name": enterprise.name}, center)


def list_high_risk(enterprise, center, bureau):
    """The housing center proposes, the housing bureau approves: the enterprise is listed."""
    listing = high_risk.propose(center, enterprise.id)
    task = open_task(listing.instance_id, "propose")
    runtime.complete_task(task.id, {"reason": "拒不整改", "evidence": "检查记录", "list_legal_rep": False,
                                    "project_managers": ""}, center)
    runtime.complete_task(open_task(listing.instance_id, "review").id, {"decision": "approve", "comment": ""}, bureau)


def filed(enterprise):
    enterprise.filing_status = "filed"
    db.session.commit()
    return enterprise


@pytest.fixture
def world(app, factory, processes, bank_url, clock):
    center = factory.user("housing_center", username="center")
    bureau = factory.user("housing_bureau", username="bureau")
    bank = factory.bank()
    qianzhou, donghe = factory.street_office("乾州街道"), factory.street_office("峒河街道")
    e = {
        "good": filed(factory.enterprise(name="乾元物业")),
        "rated": filed(factory.enterprise(name="德馨物业")),
        "unfiled": factory.enterprise(name="无备案物业"),
        "unsupervised": filed(factory.enterprise(name="未监管物业")),
        "listed": filed(factory.enterprise(name="高风险物业")),
        "public": filed(factory.enterprise(name="城投公益物业", is_public_benefit=True)),
        "public_listed": filed(factory.enterprise(name="公益但高风险物业", is_public_benefit=True)),
        "regular": filed(factory.enterprise(name="武陵山物业")),
        "fled": filed(factory.enterprise(name="撤离物业")),
    }
    for key in ("good", "rated", "unfiled", "listed", "regular"):
        supervise(factory, e[key], center, bank)
    for key in ("listed", "public_listed"):
        list_high_risk(e[key], center, bureau)
    assert rate(e["rated"], "92.00") == 4
    community = factory.community(enterprise=e["fled"], street_office=qianzhou, name="世纪华庭")
    factory.committee(community)
    bare = factory.community(enterprise=e["fled"], street_office=qianzhou, name="峒河湾")  # no owners' committee
    far = factory.community(enterprise=e["fled"], street_office=donghe, name="民族花园")
    staff = factory.user("street_office", org=qianzhou, username="qz_staff")
    head = factory.user("street_office", org=qianzhou, username="qz_head")
    other_head = factory.user("street_office", org=donghe, username="dh_head")
    takeover.register_head(head.id, qianzhou.id, center)
    takeover.register_head(other_head.id, donghe.id, center)
    return {"center": center, "bureau": bureau, "street": qianzhou, "other_street": donghe, "community": community,
            "bare": bare, "far": far, "staff": staff, "head": head, "other_head": other_head, **e}


def open_task(instance_id, spec_id=None):
    query = db.select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == "open")
    if spec_id:
        query = query.where(HumanTask.spec_id == spec_id)
    return db.session.scalar(query.order_by(HumanTask.id))


def takeover_task(takeover_id, spec_id=None):
    return open_task(db.session.get(EmergencyTakeover, takeover_id).instance_id, spec_id)


def client_for(app, user):
    client = app.test_client()
    response = client.post("/login", data={"username": user.username, "password": "Secret-pass-123"})
    assert response.status_code == 302
    client.user = user
    return client


def act(client, task, **data):
    return client.post(f"/tasks/{task.id}", data={"action": "complete", **data}, follow_redirects=True)


def open_case(client, community, cause="withdrew", situation="原物业企业 2 月底撤场，小区无人保洁，门岗无人值守。"):
    return client.post("/takeovers/new", data={"community_id": community.id, "cause": cause, "situation": situation})


def propose(client, takeover_id, candidates, starts_on="2026-03-03", ends_on="2026-05-31",
            scope=("cleaning", "order", "facilities", "garbage")):
    return act(client, takeover_task(takeover_id, "propose"), candidate_ids=[c.id for c in candidates],
               starts_on=starts_on, ends_on=ends_on, basic_scope=list(scope))
