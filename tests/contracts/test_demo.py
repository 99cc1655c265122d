"""The demo data shows contract filing: one contract filed and ending within 90 days (on
the center's dashboard), one waiting for review, one community guided to sign; seeding
twice changes nothing."""
from pathlib import Path

from app.engine import calendar
from app.engine.deploy import deploy_directory
from app.extensions import db
from app.models import Contract, ContractTemplate
from app.services import demo


def test_demo_contracts(app):
    calendar.seed()
    deploy_directory(Path(__file__).resolve().parents[2] / "bpmn")
    demo.seed()
    demo.seed()
    statuses = sorted(db.session.scalars(db.select(Contract.status)))
    assert statuses == ["filed", "guidance", "submitted"]
    assert db.session.scalar(db.select(db.func.count(ContractTemplate.id))) == 2
    client = app.test_client()
    client.post("/login", data={"username": "zhubao", "password": demo.DEMO_PASSWORD})
    card = client.get("/").get_data(as_text=True).split('data-testid="expiring-contracts"')[1]
    assert "德夯小区二期" in card
    assert "审查合同" in client.get("/inbox").get_data(as_text=True)
    enterprise = app.test_client()
    enterprise.post("/login", data={"username": "enterprise", "password": demo.DEMO_PASSWORD})
    assert "签订或修改合同并报送" in enterprise.get("/inbox").get_data(as_text=True)
