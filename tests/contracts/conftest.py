"""Contract fixtures: the contract and high-risk processes deployed, the model texts
published, two streets with an enterprise and communities each, and helpers that act
through the pages like users."""
import io
import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.engine import calendar
from app.engine.deploy import deploy
from app.extensions import db
from app.models import Contract, HumanTask
from app.services.contract_templates import ensure_default_templates

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
SHANGHAI = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def processes(app):
    for key in ("contract_review", "high_risk_escalation"):
        deploy(key, (BPMN / f"{key}.bpmn").read_text(encoding="utf-8"))
    ensure_default_templates()


@pytest.fixture
def clock():
    calendar.set_clock(datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI))  # a Monday
    yield calendar.set_clock
    calendar.set_clock(None)


@pytest.fixture
def world(app, factory, processes):
    qianzhou = factory.street_office("乾州街道")
    donghe = factory.street_office("峒河街道")
    enterprise = factory.enterprise(name="吉首市乾元物业服务有限公司")
    other = factory.enterprise(name="湘西峒河物业管理有限公司")
    community = factory.community(enterprise=enterprise, street_office=qianzhou, name="世纪华庭")
    second = factory.community(enterprise=enterprise, street_office=qianzhou, name="乾州新城")
    far = factory.community(enterprise=other, street_office=donghe, name="峒河湾")
    committee = factory.committee(community)
    return {"street": qianzhou, "other_street": donghe, "enterprise": enterprise, "other_enterprise": other,
            "community": community, "second": second, "far": far, "committee": committee}


def pdf_file(name="合同.pdf", content=PDF):
    return (io.BytesIO(content), name)


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def terms(**changes) -> dict:
    data = {"party_a": "世纪华庭业主委员会", "tender_ref": "", "signed_on": "2026-02-20", "starts_on": "2026-03-01",
            "ends_on": "2029-02-28", "fee_per_sqm": "1.20", "service_level": "level2", "note": ""}
    data.update(changes)
    return data


def contract_form(community, **changes) -> dict:
    data = {"kind": "regular", "community_id": community.id, **terms(), "contract_pdf": pdf_file()}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def open_task(contract_id, spec_id=None) -> HumanTask | None:
    db.session.expire_all()
    contract = db.session.get(Contract, contract_id)
    query = db.select(HumanTask).where(HumanTask.instance_id == contract.instance_id, HumanTask.status == "open")
    if spec_id:
        query = query.where(HumanTask.spec_id == spec_id)
    return db.session.scalar(query.order_by(HumanTask.id))


def act(client, task, **data):
    return client.post(f"/tasks/{task.id}", data={"action": "complete", **data}, follow_redirects=True)
