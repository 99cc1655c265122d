"""No contract signed: the center guides signing on the model text with a deadline in
working days; the enterprise uploads the signed contract and the owners' committee confirms
it. A missed deadline or a refusal brings a correction order (PDF) with a new deadline; a
miss or a refusal after the order sends a risk notice to the owners and escalates to the
high-risk list (docs/contracts.md)."""
from datetime import datetime


from app.engine import runtime
from app.extensions import db
from app.models import (Attachment, Contract, ContractRound, CreditRecord, Disclosure, HighRiskListing, HumanTask,
                        ProcessInstance)
from app.services.attachments import path_of
from tests.contracts.conftest import SHANGHAI, act, contract_form, open_task, pdf_text

ALL_ITEMS = ["scope", "standards", "fee", "rights", "term", "termination", "liability", "escrow"]


def guide(client, community, **changes):
    data = {"community_id": community.id, "kind": "regular", "days": "5",
            "finding": "街道巡查发现该小区物业服务企业尚未与业主签订物业服务合同"}
    data.update(changes)
    return client.post("/contracts/guide", data=data)


def the_contract() -> Contract:
    db.session.expire_all()
    return db.session.scalar(db.select(Contract).order_by(Contract.id.desc()))


def test_guidance_refuses_bad_input_and_wrong_roles(world, login_as, clock):
    center = login_as("housing_center")
    for changes, message in [({"days": "0"}, "签订期限须为 1 至 60 个工作日"), ({"days": "61"}, "签订期限须为 1 至 60 个工作日"),
                             ({"finding": " "}, "请说明该小区未签订合同的情况")]:
        response = guide(center, world["community"], **changes)
        assert response.status_code == 422 and message in response.get_data(as_text=True), changes
    for role in ("enterprise", "street_office", "owners_committee", "justice_bureau"):
        assert guide(login_as(role), world["community"]).status_code == 403, role
    assert db.session.scalar(db.select(db.func.count(Contract.id))) == 0
    page = center.get("/contracts/guide").get_data(as_text=True)
    assert "世纪华庭" in page and "峒河湾" in page


def test_unsigned_community_is_guided_to_signing_with_the_committee(world, login_as, clock):
    center = login_as("housing_center")
    enterprise = login_as("enterprise", org=world["enterprise"])
    committee = login_as("owners_committee", org=world["committee"])
    other_committee = login_as("owners_committee", org=None)

    assert guide(center, world["community"], days="15").status_code == 302
    contract = the_contract()
    assert contract.status == "guidance" and contract.origin == "guided"
    assert contract.deadline.isoformat() == "2026-03-23"  # 15 working days from Monday 2 March
    assert contract.party_a == "世纪华庭业委会"
    notice = pdf_text(path_of(contract.guidance_notice))
    assert "签订物业服务合同指导通知书" in notice and "2026 年 3 月 23 日" in notice and "示范文本" in notice
    assert guide(center, world["community"]).status_code == 409  # one open case per community
    assert "世纪华庭" not in center.get("/contracts/guide").get_data(as_text=True).split("unsigned-communities")[1]

    sign = open_task(contract.id, "submit")
    assert sign.role == "enterprise" and sign.due_at.astimezone(SHANGHAI).date().isoformat() == "2026-03-23"
    assert act(committee, sign, **contract_form(world["community"])).status_code in (403, 404)
    form = enterprise.get(f"/tasks/{sign.id}").get_data(as_text=True)
    assert 'value="世纪华庭业委会"' in form  # the center's proposed party A, prefilled
    no_pdf = act(enterprise, sign, **contract_form(world["community"], contract_pdf=None))
    assert "请上传已签订合同的 PDF 文件" in no_pdf.get_data(as_text=True)
    act(enterprise, sign, **contract_form(world["community"], party_a="世纪华庭业委会"))

    # The owners' committee of the community confirms signing; another committee cannot.
    confirm = open_task(contract.id, "confirm")
    assert confirm.role == "owners_committee" and confirm.community_id == world["community"].id
    assert other_committee.post(f"/tasks/{confirm.id}", data={"action": "complete", "signed": "yes"}).status_code in (403, 404)
    assert other_committee.get(f"/contracts/{contract.id}").status_code == 404
    silent = act(committee, confirm, signed="no")
    assert "未确认签订时须说明原因" in silent.get_data(as_text=True)
    act(committee, confirm, signed="no", committee_comment="第 4 条收费标准未经业主大会表决")
    contract = the_contract()
    assert contract.status == "guidance" and contract.round_rows[0].decision == "not_confirmed"

    # Back to the enterprise, still under the first deadline; the signed PDF may stay.
    sign = open_task(contract.id, "submit")
    assert sign.due_at.astimezone(SHANGHAI).date().isoformat() == "2026-03-23"
    act(enterprise, sign, **contract_form(world["community"], contract_pdf=None, note="业主大会已表决通过收费标准"))
    contract = the_contract()
    assert contract.rounds == 2 and contract.round_rows[1].pdf_id == contract.round_rows[0].pdf_id
    act(committee, open_task(contract.id, "confirm"), signed="yes", committee_comment="已签订")

    review = open_task(contract.id, "review")
    act(center, review, decision="accept", checklist=ALL_ITEMS)
    contract = the_contract()
    assert contract.status == "filed" and contract.round_rows[1].committee_confirmed is True
    page = committee.get(f"/contracts/{contract.id}").get_data(as_text=True)
    assert "已确认签订" in page and "未确认签订" in page and "第 4 条收费标准未经业主大会表决" in page
    assert db.session.get(ProcessInstance, contract.instance_id).status == "completed"


def test_missed_deadlines_bring_a_correction_order_then_escalation(app, world, login_as, clock):
    center = login_as("housing_center")
    enterprise = login_as("enterprise", org=world["enterprise"])
    guide(center, world["community"], days="5")
    contract = the_contract()
    assert contract.deadline.isoformat() == "2026-03-09"

    clock(datetime(2026, 3, 9, 20, 0, tzinfo=SHANGHAI))  # the deadline day itself still counts
    assert runtime.advance_due_timers() == 0
    clock(datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI))
    assert runtime.advance_due_timers() == 1
    contract = the_contract()
    assert contract.misses == 1 and contract.status == "guidance"
    assert contract.deadline.isoformat() == "2026-03-24"  # 10 working days from 10 March
    order = pdf_text(path_of(contract.correction_order))
    assert "责令改正通知书" in order and "未在期限内与业主签订物业服务合同" in order and "2026 年 3 月 24 日" in order
    assert db.session.scalar(db.select(CreditRecord.title).where(CreditRecord.positive.is_(False))) == "物业服务合同被责令改正"
    sign = open_task(contract.id, "submit")
    assert sign.due_at.astimezone(SHANGHAI).date().isoformat() == "2026-03-24"
    page = enterprise.get(f"/contracts/{contract.id}").get_data(as_text=True)
    assert "已责令改正" in page and "责令改正通知书" in page

    # The enterprise may still act until the new deadline; it does not.
    clock(datetime(2026, 3, 25, 9, 0, tzinfo=SHANGHAI))
    late = act(enterprise, sign, **contract_form(world["community"]))  # too late: the timer wins
    assert "已因期限届满或流程变化而关闭" in late.get_data(as_text=True)
    assert runtime.advance_due_timers() == 0  # already advanced by the attempt
    contract = the_contract()
    assert contract.status == "escalated" and contract.misses == 2 and contract.active_key is None
    assert db.session.scalar(db.select(db.func.count(ContractRound.id))) == 0

    # Written risk notice to the community's owners: a PDF and the public page.
    notice = db.session.scalar(db.select(Disclosure).where(Disclosure.community_id == world["community"].id))
    assert notice.kind == "risk_notice"
    text = pdf_text(path_of(notice.attachment))
    assert "风险提示函" in text and "世纪华庭" in text and "拒不整改" in text
    public = app.test_client().get(f"/public/communities/{world['community'].id}", follow_redirects=True).get_data(as_text=True)
    assert "拒不整改物业服务合同问题" in public
    # … and the high-risk case, proposed from the contract's facts.
    listing = db.session.scalar(db.select(HighRiskListing).where(HighRiskListing.enterprise_id == world["enterprise"].id))
    assert listing.status == "drafting" and "物业服务合同经责令改正后仍未签订或备案" in listing.reason
    assert f"contract-{contract.id}" in listing.evidence
    propose = db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == listing.instance_id,
                                                           HumanTask.status == "open"))
    assert propose.spec_id == "propose" and propose.role == "housing_center"
    # The community no longer has an open case: the center may guide it again.
    assert guide(center, world["community"]).status_code == 302


def test_refusal_brings_a_correction_order_and_refusing_again_escalates(world, login_as, clock):
    center = login_as("housing_center")
    enterprise = login_as("enterprise", org=world["enterprise"])
    response = enterprise.post("/contracts/new", data=contract_form(world["second"], party_a="乾州新城业主大会"),
                               content_type="multipart/form-data")
    assert response.status_code == 302
    contract = the_contract()
    center.post(f"/contracts/{contract.id}/opinions", data={"opinion-clause_no": "4", "opinion-action": "amend",
                                                            "opinion-text": "收费标准无依据",
                                                            "opinion-proposed_wording": "按二级标准收费"})
    act(center, open_task(contract.id, "review"), decision="revise")

    revise = open_task(contract.id, "submit")
    assert "拒绝将被责令改正" in enterprise.get(f"/tasks/{revise.id}").get_data(as_text=True)
    no_reason = act(enterprise, revise, response="refuse")
    assert "拒绝时须说明理由" in no_reason.get_data(as_text=True)
    act(enterprise, revise, response="refuse", refusal_reason="收费标准已经业主大会表决，不同意修改")
    contract = the_contract()
    assert contract.correction_order_id and contract.status == "returned" and contract.misses == 0
    order = pdf_text(path_of(contract.correction_order))
    assert "拒绝签订或修改物业服务合同" in order and "不同意修改" in order
    # A refusal before any order is what the order corrects (policy 三(七)): no risk notice
    # to the owners and no high-risk case yet; the enterprise is told what refusing now means.
    assert not_escalated(world)
    again = open_task(contract.id, "submit")
    assert "已责令改正：再拒绝或逾期未改正的，即书面告知业主企业风险并移交高风险企业管控" in \
        enterprise.get(f"/tasks/{again.id}").get_data(as_text=True)

    act(enterprise, again, response="refuse", refusal_reason="仍不同意")
    contract = the_contract()
    assert contract.status == "escalated"
    assert db.session.scalar(db.select(HighRiskListing.id).where(
        HighRiskListing.enterprise_id == world["enterprise"].id)) is not None
    assert db.session.scalar(db.select(Disclosure.kind).where(Disclosure.community_id == world["second"].id)) == \
        "risk_notice"
    assert open_task(contract.id) is None


def not_escalated(world) -> bool:
    return (db.session.scalar(db.select(db.func.count(Disclosure.id))) == 0
            and db.session.scalar(db.select(db.func.count(HighRiskListing.id))) == 0
            and world["enterprise"].risk_status == "none")


def test_after_the_order_a_later_missed_deadline_escalates_without_a_second_order(world, login_as, clock):
    """One correction order per case: the enterprise answers it in time, but then lets the
    revision deadline of the next round pass; that is refusing to correct, and escalates."""
    center = login_as("housing_center")
    enterprise = login_as("enterprise", org=world["enterprise"])
    guide(center, world["second"], days="5")
    clock(datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI))
    assert runtime.advance_due_timers() == 1
    contract = the_contract()
    order_id = contract.correction_order_id
    assert order_id and contract.deadline.isoformat() == "2026-03-24" and not_escalated(world)

    act(enterprise, open_task(contract.id, "submit"), **contract_form(world["second"], party_a="乾州新城业主大会"))
    center.post(f"/contracts/{contract.id}/opinions", data={"opinion-clause_no": "4", "opinion-action": "amend",
                                                            "opinion-text": "收费标准无依据",
                                                            "opinion-proposed_wording": "按二级标准收费"})
    act(center, open_task(contract.id, "review"), decision="revise")
    contract = the_contract()
    assert contract.status == "returned" and contract.deadline.isoformat() == "2026-03-24" and not_escalated(world)

    clock(datetime(2026, 3, 25, 9, 0, tzinfo=SHANGHAI))
    assert runtime.advance_due_timers() == 1
    contract = the_contract()
    assert contract.status == "escalated" and contract.misses == 2 and contract.correction_order_id == order_id
    assert db.session.scalar(db.select(db.func.count(Attachment.id)).where(Attachment.field == "correction_order")) == 1
    notice = db.session.scalar(db.select(Disclosure).where(Disclosure.community_id == world["second"].id))
    assert notice.kind == "risk_notice" and "未在期限内按删改意见修改并重新报送物业服务合同" in notice.body
    assert db.session.scalar(db.select(HighRiskListing.status).where(
        HighRiskListing.enterprise_id == world["enterprise"].id)) == "drafting"
