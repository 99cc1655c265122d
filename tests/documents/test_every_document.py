"""Every official form the policy names, rendered by the one documents service to PDF: its
text read back with pdftotext (Chinese included), each stored with its SHA-256 and listed
on its case. The escrow forms come from the real disbursement case; the others are
rendered onto that case from their templates with the context their services pass."""
import hashlib
import subprocess
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from app.extensions import db
from app.models import Attachment, BankInstruction
from app.services import attachments, correction_orders, documents
from tests.escrow.conftest import approve_a_disbursement, bank_url, processes, setup  # noqa: F401 (fixtures)


def text_of(row: Attachment) -> str:
    data = open(attachments.path_of(row), "rb").read()
    assert row.sha256 == hashlib.sha256(data).hexdigest() and row.size == len(data) and data.startswith(b"%PDF")
    return "".join(subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True)
                   .stdout.decode().split())


def test_every_official_form_renders_with_its_chinese_text_and_is_listed_on_its_case(setup, bank_url, factory,
                                                                                    login_as):
    req = approve_a_disbursement(setup, bank_url, factory)
    case = req.instance_id
    enterprise, community = setup["enterprise"], setup["community"]
    deadline = date(2026, 12, 31)
    dispute = SimpleNamespace(
        caller_name="张三", caller_phone="139****0001", address="世纪华庭 3 栋", community=community,
        enterprise=enterprise, street_office=community.street_office, work_order_no="12345-2026-0001",
        content="电梯长期故障无人维修", mediator=SimpleNamespace(display_name="彭调解"))
    session = SimpleNamespace(held_on=date(2026, 11, 20), place="乾州街道调解室", parties="张三、乾元物业",
                              record="双方陈述")
    rendered = {
        "filing_demand": documents.generate(
            "documents/filing_demand.html", f"{enterprise.name}备案督促通知书", kind="filing_demand",
            instance_id=case, enterprise=enterprise, filing=SimpleNamespace(deadline=deadline),
            communities=[community]),
        "risk_notice": documents.generate(
            "documents/risk_notice.html", f"{community.name}风险提示函", kind="risk_notice", instance_id=case,
            enterprise=enterprise, community=community, reason="拒不办理备案"),
        "contract_correction_order": documents.generate(
            "documents/contract_correction_order.html", f"{enterprise.name}责令改正通知书",
            kind="contract_correction_order", instance_id=case, reason="未在期限内签订物业服务合同",
            kind_name="物业服务合同", contract=SimpleNamespace(enterprise=enterprise, community=community,
                                                         deadline=deadline)),
        "correction_order": correction_orders.issue(
            enterprise, "消防通道堆放杂物\n电梯年检过期", 10, requirements="清理通道并完成电梯年检",
            community=community, instance_id=case),
        "mediation_agreement": documents.generate(
            "documents/mediation_agreement.html", "人民调解协议书（世纪华庭）", kind="mediation_agreement",
            instance_id=case, dispute=dispute, terms="乾元物业于十日内修复电梯\n业主缴清物业费",
            performance="双方签字后履行", sessions=[session], sources={}),
    }
    by_kind = {row.field: row for row in db.session.scalars(db.select(Attachment))}
    escrow_forms = {kind: by_kind[kind] for kind in ("escrow_agreement", "disbursement_request", "bank_instruction")}
    instruction = db.session.scalar(db.select(BankInstruction))

    expected = {
        "filing_demand": ["备案督促通知书", "乾元物业", enterprise.uscc, "世纪华庭", "2026年12月31日"],
        "risk_notice": ["物业服务企业风险提示函", "世纪华庭全体业主", "拒不办理备案", "高风险企业管控名单"],
        "contract_correction_order": ["责令改正通知书", "未在期限内签订物业服务合同", "2026年12月31日"],
        "correction_order": ["整改通知书", "消防通道堆放杂物", "电梯年检过期", "清理通道并完成电梯年检", "吉首市住房保障服务中心"],
        "mediation_agreement": ["人民调解协议书", "电梯长期故障无人维修", "乾元物业于十日内修复电梯", "乾州街道调解室"],
        "escrow_agreement": ["吉首市物业小区物业服务费监管协议", "乾元物业", setup["account"].account_no, "50,000.00"],
        "disbursement_request": ["物业服务企业监管资金支付申请单", "壹拾叁万元整", "世纪华庭"],
        "bank_instruction": ["请贵行予以拨付", instruction.reference, "壹拾叁万元整"],
    }
    rows = {**rendered, **escrow_forms}
    assert set(rows) == set(expected)
    for kind, phrases in expected.items():
        text = text_of(rows[kind])
        for phrase in phrases:
            assert phrase.replace(" ", "") in text, (kind, phrase)

    page = login_as("housing_center").get(f"/cases/{case}").get_data(as_text=True)
    for kind, row in rows.items():
        if row.instance_id == case:
            assert row.filename in page, kind
    assert {kind for kind, row in rows.items() if row.instance_id != case} == {"escrow_agreement"}
    account_page = login_as("housing_center").get(f"/escrow/accounts/{setup['account'].id}").get_data(as_text=True)
    assert "agreement.pdf" in account_page  # the agreement is listed on its account, where it was signed
    assert Decimal(instruction.amount) == Decimal("130000.00")
