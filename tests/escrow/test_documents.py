"""The escrow agreement, the enterprise's request form and the bank instruction as PDFs,
their Chinese text checked with pdftotext."""
import hashlib
import subprocess

from app.extensions import db
from app.models import Attachment, BankInstruction, DisbursementRequest, HumanTask
from app.services import attachments, escrow
from app.engine import runtime
from tests.escrow.conftest import deposit


def pdf_text(row: Attachment) -> str:
    path = attachments.path_of(row)
    assert hashlib.sha256(open(path, "rb").read()).hexdigest() == row.sha256
    text = subprocess.run(["pdftotext", path, "-"], capture_output=True, text=True, check=True).stdout
    return "".join(text.split())  # lines wrap anywhere in Chinese text


def test_agreement_request_and_instruction_pdfs(setup, bank_url, factory, login_as):
    account = setup["account"]
    agreement_pdf = db.session.get(Attachment, account.agreement.pdf_attachment_id)
    text = pdf_text(agreement_pdf)
    assert "吉首市物业小区物业服务费监管协议" in text and "乾元物业" in text and account.account_no in text
    assert "50,000.00" in text  # the 5 % bond floor of 1 000 000.00
    assert login_as("enterprise", org=setup["enterprise"]).get(
        f"/escrow/accounts/{account.id}/agreement.pdf").status_code == 200
    assert login_as("enterprise").get(f"/escrow/accounts/{account.id}/agreement.pdf").status_code == 404

    deposit(bank_url, account.account_no, "180000.00")
    escrow.pull_statement(account)
    year, quarter = escrow.current_quarter()
    req = escrow.request_disbursement(factory.user("enterprise", org=setup["enterprise"]), account.id, year,
                                      min(quarter, 3))
    request_pdf = db.session.scalar(db.select(Attachment).where(Attachment.field == "disbursement_request"))
    text = pdf_text(request_pdf)
    assert "物业服务企业监管资金支付申请单" in text and "吉首市住房保障服务中心" in text
    assert "壹拾叁万元整" in text and "130000.00" in text and "世纪华庭" in text

    task = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == req.instance_id,
                                                        HumanTask.status == "open", HumanTask.spec_id == "review"))
    runtime.complete_task(task.id, {"decision": "approve", "comment": ""}, setup["center"])
    instruction = db.session.scalar(db.select(BankInstruction))
    text = pdf_text(db.session.get(Attachment, instruction.pdf_attachment_id))
    assert "请贵行予以拨付" in text and instruction.reference in text and "壹拾叁万元整" in text
    case_page = login_as("housing_center").get(f"/cases/{req.instance_id}").get_data(as_text=True)
    assert "监管资金支付申请单" in case_page  # the documents are listed on the case
    assert db.session.get(DisbursementRequest, req.id).status == "paid"
