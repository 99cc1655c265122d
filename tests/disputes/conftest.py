"""Dispute fixtures: the process deployed, the 12345 hotline sandbox as a real HTTP server,
two streets with a community each, and a mediator on each street's committee."""
import json
from datetime import timedelta
from pathlib import Path

import pytest

from app.engine.calendar import SHANGHAI, now
from app.engine.deploy import deploy
from app.extensions import db
from app.integrations.signing import sign_headers
from app.models import Dispute, HumanTask

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
PATH = "/api/v1/integrations/hotline/work-orders"


@pytest.fixture
def process(app):
    deploy("dispute_mediation", (BPMN / "dispute_mediation.bpmn").read_text(encoding="utf-8"))


@pytest.fixture
def hotline(app):
    from sandbox.hotline import create_app as create_hotline
    from sandbox.server import serve_in_thread
    url, shutdown = serve_in_thread(create_hotline(key_id=app.config["HOTLINE_KEY_ID"],
                                                   secret=app.config["HOTLINE_SECRET"]))
    app.config["HOTLINE_URL"] = url
    app.config["HOTLINE_TIMEOUT"] = 2
    app.config["ENGINE_RETRY_BASE_SECONDS"] = 0
    yield url
    shutdown()


@pytest.fixture
def world(app, factory, process, hotline):
    from app.services import disputes
    qianzhou = factory.street_office("乾州街道")
    donghe = factory.street_office("峒河街道")
    enterprise = factory.enterprise(name="吉首市乾元物业服务有限公司")
    other = factory.enterprise(name="湘西峒河物业管理有限公司")
    community = factory.community(enterprise=enterprise, street_office=qianzhou, name="世纪华庭",
                                  address="吉首市乾州街道世纪华庭")
    far = factory.community(enterprise=other, street_office=donghe, name="峒河湾", address="吉首市峒河街道峒河湾")
    mediator = factory.user("mediator", username="mediator_qz")
    mediator.display_name = "张调解"
    stranger = factory.user("mediator", username="mediator_dh")
    db.session.commit()
    disputes.register_mediator(mediator.id, qianzhou.id)
    disputes.register_mediator(stranger.id, donghe.id)
    return {"street": qianzhou, "other_street": donghe, "enterprise": enterprise, "other_enterprise": other,
            "community": community, "far": far, "mediator": mediator, "stranger": stranger}


def work_order(number="GD20260501001", **changes) -> dict:
    """A hotline work order; its reply deadline is ten days ahead on the engine clock."""
    deadline = (now() + timedelta(days=10)).astimezone(SHANGHAI).isoformat()
    body = {"work_order_no": number, "received_at": "2026-05-06T09:30:00+08:00", "caller_name": "李女士",
            "caller_phone": "13874301234", "address": "吉首市乾州街道世纪华庭 3 栋 2 单元",
            "category": "公共设施维修", "content": "小区 3 栋电梯停运一周，物业未维修。",
            "deadline": deadline}
    body.update(changes)
    return body


def post_signed(client, app, body, *, secret=None, headers=None, raw=None):
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
    signed = headers or sign_headers(secret or app.config["HOTLINE_SECRET"], "hotline", "POST", PATH, data)
    response = client.post(PATH, data=data, headers={**signed, "Content-Type": "application/json"})
    return response, signed


def open_task(dispute_id, spec_id=None):
    dispute = db.session.get(Dispute, dispute_id)
    query = db.select(HumanTask).where(HumanTask.instance_id == dispute.instance_id, HumanTask.status == "open")
    if spec_id:
        query = query.where(HumanTask.spec_id == spec_id)
    return db.session.scalar(query.order_by(HumanTask.id))
