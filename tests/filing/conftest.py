"""Filing and high-risk fixtures: both processes deployed, helpers to act through the pages."""
import io
import subprocess
from pathlib import Path

import pytest

from app.engine.deploy import deploy
from app.extensions import db
from app.models import HumanTask

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def processes(app):
    for key in ("filing", "high_risk_escalation"):
        deploy(key, (BPMN / f"{key}.bpmn").read_text(encoding="utf-8"))


def open_task(instance_id, spec_id=None) -> HumanTask:
    db.session.expire_all()
    query = db.select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == "open")
    if spec_id:
        query = query.where(HumanTask.spec_id == spec_id)
    return db.session.scalar(query)


def pdf_file(name="scan.pdf"):
    return (io.BytesIO(PDF), name)


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def filing_form(factory, **changes) -> dict:
    data = {"action": "complete", "registered_capital": "500", "registered_address": "吉首市乾州街道世纪大道 8 号",
            "established_on": "2015-06-01", "business_scope": "物业管理；家政服务", "legal_rep_name": "向东",
            "legal_rep_id_number": factory.person_id(), "qualification": "ISO9001 质量管理体系；物业管理制度汇编",
            "staff_count": "86", "managers": f"彭丽 {factory.person_id()} 13907430001", "declaration": "y",
            "licence_scan": pdf_file("营业执照.pdf"),
            **community_row(0, name="世纪华庭", address="吉首市乾州街道世纪大道 10 号")}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def community_row(index, community=None, *, name="", address="", starts="2024-01-01", ends="2026-12-31",
                  scan="合同.pdf") -> dict:
    """One row of the filing's communities: a community the system knows, or name and address."""
    row = {"community_id": community.id if community else 0, "name": name, "address": address,
           "contract_starts": starts, "contract_ends": ends, "contract_scan": pdf_file(scan) if scan else None}
    return {f"communities-{index}-{k}": v for k, v in row.items()}
