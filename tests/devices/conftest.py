"""Device fixtures: the repair process deployed, the sandbox device platform and Wuye itself
as real HTTP servers (the platform pushes to Wuye over HTTP), two suppliers, two
enterprises on two streets, and registered devices."""
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import requests

from app.engine import calendar
from app.engine.deploy import deploy
from app.extensions import db
from app.integrations.signing import sign_headers
from app.models import Device, HumanTask, RepairCase

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
PUSH_PATH = "/api/v1/integrations/devices/events"


@pytest.fixture
def process(app):
    deploy("device_repair", (BPMN / "device_repair.bpmn").read_text(encoding="utf-8"))


@pytest.fixture
def clock():
    yield calendar.set_clock
    calendar.set_clock(None)


@pytest.fixture
def wuye_url(app):
    """Wuye served on a real port, so the platform can push to it."""
    from sandbox.server import serve_in_thread
    url, shutdown = serve_in_thread(app)
    yield url
    shutdown()


@pytest.fixture
def platform(app, wuye_url):
    """The sandbox platform on a real port, pushing to Wuye; pushes go out when a test
    flushes them (auto-push off), so every test knows what has been delivered."""
    from sandbox.devices import create_app as create_platform
    from sandbox.server import serve_in_thread
    url, shutdown = serve_in_thread(create_platform(key_id=app.config["DEVICE_KEY_ID"],
                                                    secret=app.config["DEVICE_SECRET"],
                                                    push_url=wuye_url + PUSH_PATH))
    app.config["DEVICE_PLATFORM_URL"] = url
    app.config["DEVICE_TIMEOUT"] = 2
    app.config["ENGINE_RETRY_BASE_SECONDS"] = 0
    control(url, "auto-push", on=False)
    yield url
    shutdown()


def control(url, action, **body):
    db.session.expire_all()
    response = requests.post(f"{url}/_control/{action}", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def platform_state(url):
    return requests.get(f"{url}/_control/state", timeout=10).json()


@pytest.fixture
def world(app, factory, process):
    from app.services import devices
    qianzhou, donghe = factory.street_office("乾州街道"), factory.street_office("峒河街道")
    enterprise = factory.enterprise(name="吉首市乾元物业服务有限公司")
    other_enterprise = factory.enterprise(name="湘西峒河物业管理有限公司")
    community = factory.community(enterprise=enterprise, street_office=qianzhou, name="世纪华庭")
    far = factory.community(enterprise=other_enterprise, street_office=donghe, name="峒河湾")
    supplier, other_supplier = factory.supplier(), factory.supplier()
    supplier.name, other_supplier.name = "湘西智联科技有限公司", "长沙安防设备有限公司"
    db.session.commit()
    center = factory.user("housing_center")
    made = {}
    for serial, kind, owner, where in (("SN-ELV-1", "elevator", supplier, community),
                                       ("SN-ACC-1", "access", supplier, community),
                                       ("SN-CAM-9", "video", other_supplier, far)):
        made[serial] = devices.register_device(center, {
            "supplier_id": owner.id, "community_id": where.id, "kind": kind, "serial": serial,
            "model": "ZL-2000", "location": "3 栋 1 单元", "installed_on": date(2026, 1, 5),
            "warranty_until": date(2029, 1, 4)})
    return {"street": qianzhou, "other_street": donghe, "enterprise": enterprise,
            "other_enterprise": other_enterprise, "community": community, "far": far, "supplier": supplier,
            "other_supplier": other_supplier, "center": center, "devices": made}


@pytest.fixture
def registered(platform, world):
    """The platform knows the same devices."""
    control(platform, "devices", devices=[{"serial": s, "kind": d.kind, "community_ref": str(d.community_id)}
                                          for s, d in world["devices"].items()])
    return world


def post_signed(client, app, body, *, secret=None, headers=None, raw=None):
    data = raw if raw is not None else json.dumps(body, ensure_ascii=False).encode()
    signed = headers or sign_headers(secret or app.config["DEVICE_SECRET"], "platform", "POST", PUSH_PATH, data)
    response = client.post(PUSH_PATH, data=data, headers={**signed, "Content-Type": "application/json"})
    return response, signed


def device(serial) -> Device:
    db.session.expire_all()  # pushes arrive through the server thread's own session
    return db.session.scalar(db.select(Device).where(Device.serial == serial))


def repair_of(serial) -> RepairCase | None:
    return db.session.scalar(db.select(RepairCase).where(RepairCase.device_id == device(serial).id)
                             .order_by(RepairCase.id.desc()))


def open_task(case: RepairCase, spec_id=None):
    query = db.select(HumanTask).where(HumanTask.instance_id == case.instance_id, HumanTask.status == "open")
    if spec_id:
        query = query.where(HumanTask.spec_id == spec_id)
    return db.session.scalar(query.order_by(HumanTask.id))


def _job_env(app, database_url, redis_url, tmp_path) -> dict:
    return {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "test", "FLASK_APP": "app", "DEVICE_PLATFORM_URL": app.config["DEVICE_PLATFORM_URL"],
            "ENGINE_RETRY_BASE_SECONDS": "0", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


def run_worker(app, database_url, redis_url, tmp_path, queues=("devices", "default")):
    """A real RQ worker process (burst): it runs what is queued on Redis and stops."""
    options = [arg for queue in queues for arg in ("-q", queue)]
    result = subprocess.run([sys.executable, "-m", "flask", "worker", "--burst", *options],
                            env=_job_env(app, database_url, redis_url, tmp_path), capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    db.session.expire_all()
    return result


def run_scheduler_once(app, database_url, redis_url, tmp_path):
    """The real scheduler process (`flask scheduler --once`): every periodic job is queued on
    its own queue, as in production, for a worker to run."""
    result = subprocess.run([sys.executable, "-m", "flask", "scheduler", "--once"],
                            env=_job_env(app, database_url, redis_url, tmp_path), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result
