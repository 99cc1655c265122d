"""Way in (b): the center finds an unfiled enterprise, demands filing with a deadline in
working days; a missed deadline (timer job) or a declared refusal sends a risk notice to the
owners of every community and escalates to the high-risk list; listing and removal."""
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from app.engine import calendar, runtime
from app.extensions import db
from app.models import Attachment, CreditRecord, Disclosure, Enterprise, EnterpriseFiling, HighRiskListing
from app.services import high_risk
from app.services.attachments import path_of
from app.services.demo import demo_uscc
from tests.filing.conftest import open_task, pdf_text
from tests.html_tables import table_rows

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def clock():
    calendar.set_clock(datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI))  # a Monday
    yield calendar.set_clock
    calendar.set_clock(None)


def shown_text(html: str, testid: str) -> str:
    """The text of the element marked data-testid (no nested tags)."""
    found = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<', html)
    return found.group(1).strip() if found else ""


def demand(center, enterprise, deadline="2026-03-16"):
    return center.post("/filing/demands/new", data={"enterprise_id": enterprise.id, "deadline": deadline,
                                                    "finding": "经街道巡查发现该企业在世纪华庭提供物业服务"})


def test_unfiled_enterprise_entry_refuses_bad_codes(login_as):
    center = login_as("housing_center")
    bad = center.post("/filing/unfiled/new", data={"name": "无证物业", "uscc": "91433101MA4L0000X0"})
    assert "统一社会信用代码格式或校验位不正确" in bad.get_data(as_text=True)
    ok = center.post("/filing/unfiled/new", data={"name": "无证物业", "uscc": demo_uscc(950)})
    assert ok.status_code == 302 and "/filing/demands/new" in ok.location
    again = center.post("/filing/unfiled/new", data={"name": "无证物业二", "uscc": demo_uscc(950)})
    assert "该统一社会信用代码已登记" in again.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Enterprise)) == 1
    assert login_as("enterprise").get("/filing/unfiled/new").status_code == 403


def test_missed_deadline_notifies_owners_and_escalates_then_listing_and_removal(
        app, processes, factory, login_as, clock):
    enterprise = factory.enterprise(name="鸿运物业")
    communities = [factory.community(enterprise=enterprise, name=name) for name in ("世纪华庭", "峒河小区")]
    enterprise_user = login_as("enterprise", org=enterprise)
    center = login_as("housing_center")

    assert "请于" not in enterprise_user.get("/filing").get_data(as_text=True)
    past = demand(center, enterprise, deadline="2026-03-01")
    assert "备案期限须晚于今天" in past.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(EnterpriseFiling)) == 0
    assert demand(login_as("enterprise"), enterprise).status_code == 403

    form_page = center.get(f"/filing/demands/new?enterprise_id={enterprise.id}").get_data(as_text=True)
    assert 'value="2026-03-16"' in form_page  # default: 10 working days
    assert demand(center, enterprise).status_code == 302
    filing = db.session.scalar(db.select(EnterpriseFiling))
    assert filing.status == "demanded" and filing.deadline == date(2026, 3, 16)
    notice = pdf_text(path_of(db.session.get(Attachment, filing.demand_notice_id)))
    assert "备案督促通知书" in notice and "鸿运物业" in notice and "2026 年 3 月 16 日" in notice
    mine = enterprise_user.get("/filing").get_data(as_text=True)
    assert "请于 2026-03-16 前提交备案材料" in mine
    assert open_task(filing.instance_id, "submit_on_demand") is not None

    clock(datetime(2026, 3, 16, 20, 0, tzinfo=SHANGHAI))  # the deadline day itself still counts
    assert runtime.advance_due_timers() == 0
    clock(datetime(2026, 3, 17, 9, 0, tzinfo=SHANGHAI))
    assert runtime.advance_due_timers() == 1
    db.session.expire_all()
    assert filing.status == "refused" and enterprise.filing_status == "refused"
    assert open_task(filing.instance_id, "submit_on_demand") is None

    # A risk notice per community: a PDF, and an entry on the community's public page.
    for community in communities:
        disclosure = db.session.scalar(db.select(Disclosure).where(Disclosure.community_id == community.id))
        assert disclosure.kind == "risk_notice"
        text = pdf_text(path_of(disclosure.attachment))
        assert "风险提示函" in text and community.name in text and "鸿运物业" in text
        page = app.test_client().get(f"/public/communities/{community.id}", follow_redirects=True).get_data(as_text=True)
        assert "风险提示：鸿运物业 未依规备案" in page
        pdf = app.test_client().get(f"/public/disclosures/{disclosure.id}.pdf")
        assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert db.session.scalar(db.select(CreditRecord.title).where(CreditRecord.positive.is_(False))) == "未依规办理备案"

    # The escalation: a high-risk case whose proposal starts from the filing's facts.
    listing = db.session.scalar(db.select(HighRiskListing).where(HighRiskListing.enterprise_id == enterprise.id))
    propose = open_task(listing.instance_id, "propose")
    page = center.get(f"/tasks/{propose.id}").get_data(as_text=True)
    assert "未按备案督促通知书的期限办理企业备案" in page

    walk_listing_and_removal(app, factory, login_as, center, enterprise_user, enterprise, listing, communities)


def walk_listing_and_removal(app, factory, login_as, center, enterprise_user, enterprise, listing, communities):
    propose = open_task(listing.instance_id, "propose")
    manager_id = factory.person_id()
    bad = center.post(f"/tasks/{propose.id}", data={"action": "complete", "reason": "拒不备案", "evidence": "通知书",
                                                   "project_managers": "彭丽 12345"})
    assert "身份证号须有效" in bad.get_data(as_text=True)
    proposal = {"action": "complete", "reason": "拒不备案，经督促逾期仍未办理", "evidence": "备案督促通知书及送达回证",
                "list_legal_rep": "y", "project_managers": f"彭丽 {manager_id}"}
    assert center.post(f"/tasks/{propose.id}", data=proposal).status_code == 302

    # The proposer may not approve, even holding the bureau's role too.
    review = open_task(listing.instance_id, "review")
    proposer = db.session.get(HighRiskListing, listing.id).proposed_by
    from app.models import UserRole
    proposer.role_rows.append(UserRole(role="housing_bureau"))
    db.session.commit()
    refused = center.post(f"/tasks/{review.id}", data={"action": "complete", "decision": "approve"})
    assert "提出或核实该事项的人不能同时审批" in refused.get_data(as_text=True)
    assert open_task(listing.instance_id, "review").id == review.id
    assert login_as("enterprise", org=enterprise).post(
        f"/tasks/{review.id}", data={"action": "complete", "decision": "approve"}).status_code in (403, 404)

    bureau = login_as("housing_bureau")
    no_reason = bureau.post(f"/tasks/{review.id}", data={"action": "complete", "decision": "send_back"})
    assert "退回或不予列入时须填写审核意见" in no_reason.get_data(as_text=True)
    assert bureau.post(f"/tasks/{review.id}", data={"action": "complete", "decision": "send_back",
                                                    "comment": "请补充送达证据"}).status_code == 302
    propose = open_task(listing.instance_id, "propose")
    assert center.post(f"/tasks/{propose.id}", data={**proposal, "evidence": "通知书、送达回证、逾期记录"}).status_code == 302
    review = open_task(listing.instance_id, "review")
    committees = {c.id: login_as("owners_committee", org=factory.committee(c)) for c in communities}
    elsewhere = login_as("owners_committee")  # the committee of a community the enterprise does not serve
    before = center.get(f"/enterprises/{enterprise.id}").get_data(as_text=True)
    assert shown_text(before, "enterprise-risk-status") == "拟列入高风险"
    assert bureau.post(f"/tasks/{review.id}", data={"action": "complete", "decision": "approve"}).status_code == 302

    db.session.expire_all()
    listing = db.session.get(HighRiskListing, listing.id)
    assert listing.status == "listed" and enterprise.risk_status == "listed" and high_risk.is_barred(enterprise.id)
    assert {p.role for p in listing.persons} == {"project_manager"} | ({"legal_rep"} if enterprise.legal_rep_id else set())
    public = app.test_client().get("/public/high-risk").get_data(as_text=True)
    assert enterprise.name in public and enterprise.uscc in public and "彭丽" in public
    assert manager_id not in public and manager_id[:3] + "*" in public  # masked ID numbers only
    listed_on = listing.listed_at.astimezone(SHANGHAI).date()
    [row] = [r for r in table_rows(public, "public-high-risk") if r[0] == enterprise.name]
    assert row[2] == "拒不备案，经督促逾期仍未办理" and row[3] == listed_on.isoformat()

    # The owners are told: a written notice per community (PDF, on its public page) and
    # word to its owners' committee; a committee elsewhere hears nothing.
    title = f"{enterprise.name} 被列入高风险管控名单"
    for community in communities:
        notice = db.session.scalar(db.select(Disclosure).where(Disclosure.community_id == community.id,
                                                               Disclosure.kind == "high_risk"))
        text = pdf_text(path_of(notice.attachment))
        for phrase in ("列入高风险企业管控名单告知书", f"{community.name}全体业主", enterprise.name, enterprise.uscc,
                       "拒不备案，经督促逾期仍未办理", f"{listed_on.year} 年 {listed_on.month} 月 {listed_on.day} 日",
                       "项目经理 彭丽", "不得承接应急小区服务业务"):
            assert phrase in text, phrase
        page = app.test_client().get(f"/public/communities/{community.id}", follow_redirects=True).get_data(as_text=True)
        assert "被列入高风险管控名单" in page and f"/public/disclosures/{notice.id}.pdf" in page
        assert title in committees[community.id].get("/notifications").get_data(as_text=True)
    assert title not in elsewhere.get("/notifications").get_data(as_text=True)

    page = center.get(f"/enterprises/{enterprise.id}").get_data(as_text=True)
    assert shown_text(page, "enterprise-risk-status") == "高风险管控"
    assert shown_text(page, "enterprise-supervision-status") == "未纳入"
    timeline = page.split('data-testid="credit-file">')[1].split("</ul>")[0].split("<li")[1:]
    assert any(title in entry and "不良" in entry for entry in timeline)  # the credit file's timeline

    # Removal: the enterprise corrects and applies; the center verifies; the bureau approves.
    apply = open_task(listing.instance_id, "apply_removal")
    assert enterprise_user.post(f"/tasks/{apply.id}", data={"action": "complete", "correction": "已提交备案材料"}
                                ).status_code == 302
    verify = open_task(listing.instance_id, "verify_removal")
    assert center.post(f"/tasks/{verify.id}", data={"action": "complete", "verified": "no",
                                                    "comment": "尚未完成备案"}).status_code == 302
    apply = open_task(listing.instance_id, "apply_removal")
    assert enterprise_user.post(f"/tasks/{apply.id}", data={"action": "complete",
                                                            "correction": "已完成备案并整改到位"}).status_code == 302
    verify = open_task(listing.instance_id, "verify_removal")
    verifier = login_as("housing_center", roles=["housing_center", "housing_bureau"])
    assert verifier.post(f"/tasks/{verify.id}", data={"action": "complete", "verified": "yes",
                                                      "comment": "经核实整改到位"}).status_code == 302
    approve = open_task(listing.instance_id, "approve_removal")
    refused = verifier.post(f"/tasks/{approve.id}", data={"action": "complete", "decision": "approve"})
    assert "提出或核实该事项的人不能同时审批" in refused.get_data(as_text=True)
    assert bureau.post(f"/tasks/{approve.id}", data={"action": "complete", "decision": "approve"}).status_code == 302

    db.session.expire_all()
    listing = db.session.get(HighRiskListing, listing.id)
    assert listing.status == "removed" and enterprise.risk_status == "none" and not high_risk.is_barred(enterprise.id)
    assert enterprise.name not in app.test_client().get("/public/high-risk").get_data(as_text=True)
    history = center.get("/high-risk?status=removed").get_data(as_text=True)
    assert enterprise.name in history
    credit = [r.title for r in db.session.scalars(db.select(CreditRecord).where(
        CreditRecord.enterprise_id == enterprise.id, CreditRecord.kind == "high_risk").order_by(CreditRecord.id))]
    assert credit[0].endswith("被列入高风险管控名单") and credit[-1].endswith("已移出高风险管控名单")


def test_declared_refusal_escalates_at_once(app, processes, factory, login_as, clock):
    enterprise = factory.enterprise(name="拒备物业")
    factory.community(enterprise=enterprise, name="乾州小区")
    enterprise_user = login_as("enterprise", org=enterprise)
    center = login_as("housing_center")
    assert demand(center, enterprise).status_code == 302
    filing = db.session.scalar(db.select(EnterpriseFiling))
    task = open_task(filing.instance_id, "submit_on_demand")
    no_reason = enterprise_user.post(f"/tasks/{task.id}", data={"action": "complete", "response": "refuse"})
    assert "拒不备案时须说明理由" in no_reason.get_data(as_text=True)
    assert enterprise_user.post(f"/tasks/{task.id}", data={"action": "complete", "response": "refuse",
                                                           "refusal_reason": "我司认为无需备案"}).status_code == 302
    db.session.expire_all()
    assert filing.status == "refused"
    disclosure = db.session.scalar(db.select(Disclosure))
    assert "我司认为无需备案" in disclosure.body
    listing = db.session.scalar(db.select(HighRiskListing).where(HighRiskListing.enterprise_id == enterprise.id))
    assert listing is not None and open_task(listing.instance_id, "propose") is not None
    # Running the escalation job again does not open a second case.
    assert high_risk.start_from_filing(filing.id) is None


def test_center_proposes_from_the_enterprise_page_and_bureau_rejects(app, processes, factory, login_as):
    enterprise = factory.enterprise(name="普通物业")
    center = login_as("housing_center")
    assert login_as("housing_bureau").post("/high-risk/propose", data={"enterprise_id": enterprise.id}
                                           ).status_code == 403
    response = center.post("/high-risk/propose", data={"enterprise_id": enterprise.id})
    assert response.status_code == 302 and "/tasks/" in response.location
    again = center.post("/high-risk/propose", data={"enterprise_id": enterprise.id}, follow_redirects=True)
    assert "该企业已有一件正在办理或已生效的高风险管控" in again.get_data(as_text=True)
    listing = db.session.scalar(db.select(HighRiskListing))
    propose = open_task(listing.instance_id, "propose")
    assert center.post(f"/tasks/{propose.id}", data={"action": "complete", "reason": "服务质量投诉集中",
                                                     "evidence": "12345 工单 15 件"}).status_code == 302
    review = open_task(listing.instance_id, "review")
    bureau = login_as("housing_bureau")
    assert bureau.post(f"/tasks/{review.id}", data={"action": "complete", "decision": "reject",
                                                    "comment": "证据不足"}).status_code == 302
    db.session.expire_all()
    assert listing.status == "rejected" and enterprise.risk_status == "none"
    assert enterprise.name not in app.test_client().get("/public/high-risk").get_data(as_text=True)
    # Rejected: a new proposal may be made later.
    assert center.post("/high-risk/propose", data={"enterprise_id": enterprise.id}).status_code == 302


def test_an_english_speaking_reviewer_writes_the_record_in_chinese_and_each_owner_is_told_in_their_language(
        app, processes, factory, login_as):
    """The credit file and the public notice are the record, in Chinese whoever approved; the
    owners' committee's users are told each in the language their account chose."""
    enterprise = factory.enterprise(name="语言物业")
    committee = factory.committee(factory.community(enterprise=enterprise))
    english_owner = login_as("owners_committee", org=committee)
    english_owner.post("/lang/en", data={"next": "/"})
    chinese_owner = login_as("owners_committee", org=committee)
    center = login_as("housing_center")
    assert center.post("/high-risk/propose", data={"enterprise_id": enterprise.id}).status_code == 302
    listing = db.session.scalar(db.select(HighRiskListing))
    propose = open_task(listing.instance_id, "propose")
    assert center.post(f"/tasks/{propose.id}", data={"action": "complete", "reason": "服务质量投诉集中",
                                                     "evidence": "12345 工单 15 件"}).status_code == 302
    bureau = login_as("housing_bureau")
    bureau.post("/lang/en", data={"next": "/"})
    review = open_task(listing.instance_id, "review")
    assert bureau.post(f"/tasks/{review.id}", data={"action": "complete", "decision": "approve"}).status_code == 302

    title = "语言物业 被列入高风险管控名单"
    db.session.expire_all()
    assert db.session.get(HighRiskListing, listing.id).status == "listed"
    assert db.session.scalar(db.select(CreditRecord.title).where(CreditRecord.enterprise_id == enterprise.id,
                                                                 CreditRecord.person_id.is_(None))) == title
    assert db.session.scalar(db.select(Disclosure.title).where(Disclosure.enterprise_id == enterprise.id)) == title
    assert title in chinese_owner.get("/notifications").get_data(as_text=True)
    english = english_owner.get("/notifications").get_data(as_text=True)
    assert "语言物业 has been put on the high-risk control list" in english and title not in english


def test_enterprise_files_on_demand_before_the_deadline(app, processes, factory, login_as, clock):
    from tests.filing.conftest import filing_form
    enterprise = factory.enterprise(name="守时物业")
    enterprise_user = login_as("enterprise", org=enterprise)
    center = login_as("housing_center")
    assert demand(center, enterprise).status_code == 302
    filing = db.session.scalar(db.select(EnterpriseFiling))
    task = open_task(filing.instance_id, "submit_on_demand")
    incomplete = enterprise_user.post(f"/tasks/{task.id}", data=filing_form(factory, response="file", managers=""),
                                      content_type="multipart/form-data")
    assert "请至少填写一名项目经理" in incomplete.get_data(as_text=True)
    assert enterprise_user.post(f"/tasks/{task.id}", data=filing_form(factory, response="file"),
                                content_type="multipart/form-data").status_code == 302
    review = open_task(filing.instance_id, "review")
    assert center.post(f"/tasks/{review.id}", data={"action": "complete", "decision": "accept"}).status_code == 302
    clock(datetime(2026, 3, 20, 9, 0, tzinfo=SHANGHAI))  # the old deadline passes: nothing happens any more
    assert runtime.advance_due_timers() == 0
    db.session.expire_all()
    assert filing.status == "accepted" and enterprise.filing_status == "filed" and enterprise.risk_status == "none"
    assert db.session.scalar(db.select(db.func.count()).select_from(Disclosure)) == 0


def test_a_filing_sent_after_the_deadline_is_refused_and_leaves_no_files_behind(app, processes, factory, login_as,
                                                                               clock):
    """The deadline's timer closes the task when the late filing arrives: nothing of the
    upload stays, neither the files on disk nor their rows."""
    from tests.filing.conftest import filing_form
    from tests.filing.test_self_filing import stored_files
    enterprise = factory.enterprise(name="迟到物业")
    enterprise_user = login_as("enterprise", org=enterprise)
    assert demand(login_as("housing_center"), enterprise).status_code == 302
    filing = db.session.scalar(db.select(EnterpriseFiling))
    task = open_task(filing.instance_id, "submit_on_demand")
    clock(datetime(2026, 3, 17, 9, 0, tzinfo=SHANGHAI))
    late = enterprise_user.post(f"/tasks/{task.id}", data=filing_form(factory, response="file"),
                                content_type="multipart/form-data")
    assert late.status_code == 409 and "已因期限届满或流程变化而关闭" in late.get_data(as_text=True)
    db.session.expire_all()
    assert filing.status == "refused" and filing.rounds == 0 and filing.details == {}
    kept = db.session.scalars(db.select(Attachment)).all()
    assert [a.field for a in kept] == ["filing_demand"]  # the demand notice, nothing uploaded
    assert stored_files(app) == {a.stored_name for a in kept}
