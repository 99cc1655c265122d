"""A world for the permissions tests: the Jishou demo data (`flask demo seed`: a user of
every role, each in its organisation — enterprise 1, bank 1, the supplier, street office 1,
the owners' committee and an owner of the first community, the street's mediator) and one
record of every kind a URL can name, all belonging to those organisations, so that a
role's page shows a real record rather than "not found".

`ids()` gives the value for each URL argument; `ARGS_FOR` overrides it per endpoint."""
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from app.engine import calendar
from app.engine.deploy import deploy_directory
from app.extensions import db
from app.models import (Attachment, Community, Contract, ContractRound, ContractTemplate, Device, Disclosure, Dispute,
                        Enterprise, Evaluation, FeeHousehold, FeeReminder, FeeRoll, HumanTask, Inspection,
                        InspectionFinding, InspectionPhoto, LongJob, SatisfactionSurvey, ScoringItem, ScoringStandard,
                        Substitute, SurveyHousehold, User)
from app.models.base import utcnow
from app.models.devices import BuildPlan
from app.services import contracts, demo, escrow, evaluation, high_risk, modeler, takeover
from app.services.demo import DEMO_PASSWORD

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

# role → the demo account of that role
USERNAMES = {"housing_center": "zhubao", "housing_bureau": "housingbureau", "natural_resources": "naturalresources",
             "fire_brigade": "firebrigade", "market_regulation": "marketregulation", "justice_bureau": "justicebureau",
             "street_office": "streetoffice", "enterprise": "enterprise", "bank": "bank",
             "device_supplier": "devicesupplier", "owners_committee": "ownerscommittee", "owner": "owner",
             "mediator": "mediator", "admin": "admin", "process_manager": "processmanager"}


def user(role: str) -> User:
    return db.session.scalar(db.select(User).where(User.username == USERNAMES[role]))


def _attachment(name: str, owner: User, instance_id=None) -> Attachment:
    from app.services.attachments import store_upload
    row = store_upload(name, PDF, field="document", user=owner)
    row.instance_id, row.content_type = instance_id, "application/pdf"
    db.session.commit()
    return row


def build(bank_url: str) -> dict:
    """The demo data and the records below; returns what the URLs use."""
    calendar.seed()
    deploy_directory(BPMN)
    demo.seed()
    center, enterprise_user = user("housing_center"), user("enterprise")
    enterprise = db.session.get(Enterprise, enterprise_user.enterprise_id)
    community = db.session.get(Community, user("owner").community_id)  # the first community: enterprise 1's
    assert community.enterprise_id == enterprise.id
    assert community.street_office_id == user("street_office").street_office_id

    account = escrow.open_account({"community_id": community.id, "bank_id": user("bank").bank_id,
                                   "payee_account_no": "6222021234567890128", "payee_name": enterprise.name}, center)
    review = db.session.scalar(db.select(Contract).join(HumanTask, HumanTask.instance_id == Contract.instance_id)
                               .where(Contract.enterprise_id == enterprise.id, HumanTask.spec_id == "review",
                                      HumanTask.status == "open"))
    opinion = contracts.add_opinion(center, review.id, {"action": "delete", "text": "删除第一条", "clause_no": 1})
    spare = contracts.add_opinion(center, review.id, {"action": "delete", "text": "删除第二条", "clause_no": 2})
    contract_pdf = db.session.scalar(db.select(Attachment).where(Attachment.instance_id == review.instance_id))
    filed = db.session.scalar(db.select(Contract).where(Contract.enterprise_id == enterprise.id,
                                                        Contract.status == "filed"))
    first = filed.round_rows[0]
    db.session.add(ContractRound(contract_id=filed.id, number=2, pdf_id=first.pdf_id, terms=dict(first.terms),
                                 submitted_by_id=enterprise_user.id))  # a second round to compare with the first

    year = calendar.now().astimezone(calendar.SHANGHAI).year
    evaluation.start_cases(center, year, date(year, 12, 28))
    ev = db.session.scalar(db.select(Evaluation).where(Evaluation.community_id == community.id))
    ev.standard.locked = True  # as when the year is opened: its items can no longer be deleted
    disclosed = db.session.scalar(db.select(Evaluation).where(Evaluation.community_id != community.id)
                                  .order_by(Evaluation.id).limit(1))
    disclosed.status, disclosed.total, disclosed.breakdown = "disclosure", Decimal("88.00"), {"lines": []}
    disclosed.disclosure_ends = utcnow() + timedelta(days=7)
    db.session.commit()

    inspection = db.session.scalar(db.select(Inspection).where(Inspection.community_id == community.id))
    photo = _attachment("现场照片.pdf", user("fire_brigade"))
    db.session.add(InspectionPhoto(inspection_id=inspection.id, attachment_id=photo.id))

    roll = db.session.scalar(db.select(FeeRoll).where(FeeRoll.community_id == community.id))
    household = db.session.scalar(db.select(FeeHousehold).where(FeeHousehold.roll_id == roll.id).limit(1))
    letter = _attachment("催缴通知书.pdf", center)
    reminder = FeeReminder(household_id=household.id, round=1, amount_due=Decimal("100.00"),
                           attachment_id=letter.id, sent_by_id=center.id)
    notice = _attachment("风险提示函.pdf", center)
    disclosure = Disclosure(community_id=community.id, enterprise_id=enterprise.id, kind="risk_notice",
                            title="风险提示", body="演示", attachment_id=notice.id)
    report = _attachment("年度报告.pdf", center)
    job = LongJob(kind="annual_report", title="年度监管报告", params={}, status="done", progress=100,
                  created_by_id=center.id, attachment_id=report.id, finished_at=utcnow())
    substitute = Substitute(user_id=user("owner").id, substitute_id=user("owners_committee").id,
                            starts_on=date(2026, 1, 1), ends_on=date(2026, 1, 2))
    api_substitute = Substitute(user_id=user("owner").id, substitute_id=user("owners_committee").id,
                                starts_on=date(2026, 2, 1), ends_on=date(2026, 2, 2))  # the API's DELETE takes this one
    db.session.add_all([reminder, disclosure, job, substitute, api_substitute])
    db.session.commit()

    listing = high_risk.propose(center, db.session.scalar(
        db.select(Enterprise.id).where(Enterprise.id != enterprise.id).order_by(Enterprise.id).limit(1)))
    takeover_row = takeover.open_takeover(user("street_office"), {
        "community_id": db.session.scalar(db.select(Community.id).where(
            Community.street_office_id == community.street_office_id, Community.id != community.id)
            .order_by(Community.id).limit(1)),
        "cause": "withdrew",
        "situation": "原物业撤场，小区无人管理"})
    trial = modeler.start_trial("demo_review", user("process_manager"), {})
    dispute = db.session.scalar(db.select(Dispute).where(Dispute.community_id == community.id))
    task = db.session.scalar(db.select(HumanTask).where(HumanTask.status == "open",
                                                        HumanTask.instance_id == review.instance_id))
    others = _other_organisations(community)
    survey = db.session.scalar(db.select(SatisfactionSurvey).where(SatisfactionSurvey.community_id == community.id))
    survey_household = db.session.scalar(db.select(SurveyHousehold).where(SurveyHousehold.survey_id == survey.id)
                                         .order_by(SurveyHousehold.number.desc()).limit(1))
    return {
        "community_id": community.id, "enterprise_id": enterprise.id, "account_id": account.id,
        "contract_id": review.id, "filed_contract_id": filed.id, "number": 1,
        "disclosed_community_id": disclosed.community_id, "opinion_id": opinion.id, "spare_opinion_id": spare.id,
        "template_id": db.session.scalar(db.select(db.func.min(ContractTemplate.id))),
        "attachment_id": contract_pdf.id, "photo_id": photo.id, "instance_id": review.instance_id, "task_id": task.id,
        "device_id": db.session.scalar(db.select(Device.id).where(Device.community_id == community.id).limit(1)),
        "plan_id": db.session.scalar(db.select(BuildPlan.id).limit(1)), "dispute_id": dispute.id,
        "dispute_instance_id": dispute.instance_id,
        "evaluation_id": ev.id, "item_id": db.session.scalar(db.select(ScoringItem.id).limit(1)),
        "standard_id": db.session.scalar(db.select(ScoringStandard.id).limit(1)), "inspection_id": inspection.id,
        "finding_id": db.session.scalar(db.select(InspectionFinding.id).where(
            InspectionFinding.inspection_id == inspection.id).limit(1)),
        "job_id": job.id, "key": "demo_review", "trial_id": trial.id, "disclosure_id": disclosure.id,
        "reminder_id": reminder.id, "survey_id": survey.id, "takeover_id": takeover_row.id,
        "listing_id": listing.id, "user_id": user("enterprise").id, "row_id": substitute.id, "substitute_id": api_substitute.id, "year": year,
        "token": survey_household.token, "kind": "person", "object_id": enterprise.legal_rep_id, "field": "id_number",
        "code": "en", "package": "htmx.org", "filename": "dist/htmx.min.js", "action": "retry",
        "dmn": "star_rating.dmn", "others": others,
    }


def _other_organisations(community) -> dict:
    """role → the username of a user of that role in another organisation than the world's
    records: another enterprise, bank, supplier, street, street's mediator, community."""
    from app.models import Bank, DeviceSupplier, OwnersCommittee, StreetOffice
    from app.services import disputes, users
    other_community = db.session.scalar(db.select(Community).join(OwnersCommittee).where(
        Community.id != community.id, Community.enterprise_id != community.enterprise_id,
        Community.street_office_id != community.street_office_id).order_by(Community.id).limit(1))
    supplier = DeviceSupplier(name="长沙安防设备有限公司", uscc=demo.demo_uscc(901))
    db.session.add(supplier)
    db.session.flush()
    orgs = {"enterprise": other_community.enterprise_id,
            "bank": db.session.scalar(db.select(Bank.id).where(Bank.id != user("bank").bank_id).limit(1)),
            "device_supplier": supplier.id, "street_office": other_community.street_office_id,
            "owners_committee": db.session.scalar(db.select(OwnersCommittee.id).where(
                OwnersCommittee.community_id == other_community.id)),
            "owner": other_community.id, "mediator": None}
    for role, org_id in orgs.items():
        users.create_user(f"other_{role}", DEMO_PASSWORD, [role], org_id=org_id)
    disputes.register_mediator(db.session.scalar(db.select(User.id).where(User.username == "other_mediator")),
                               other_community.street_office_id)
    assert db.session.get(StreetOffice, other_community.street_office_id) is not None
    db.session.commit()
    return {role: f"other_{role}" for role in orgs}


# A form with a plausible value for the fields the pages' forms have, for refusals that must
# not depend on the form being empty.
FULL_FORM = {"reason": "测试原因", "body": "测试意见", "comment": "测试", "text": "测试内容", "username": "admin",
             "decision": "approve", "action": "complete", "answer": "accept", "resolved": "y", "year": "2026",
             "quarter": "1", "amount": "100.00", "title": "测试", "name": "测试", "note": "测试", "outcome": "promised",
             "method": "phone", "urged_on": "2026-11-02", "room": "1-1-101", "points": "1.00", "kind": "commendation",
             "response": "已整改", "appeal": "申辩理由", "community_id": "1", "enterprise_id": "1", "user_id": "1",
             "street_office_id": "1", "task_id": "1", "deadline": "2026-12-31", "finding": "巡查发现",
             "clause_no": "1", "summary": "调解记录", "situation": "无物业服务", "cause": "withdrew",
             "starts_on": "2026-01-01", "ends_on": "2026-01-02", "substitute": "admin", "password": "x",
             "current_password": "x", "new_password": "Another-pass-123", "confirm": "Another-pass-123"}

# Values an endpoint needs other than the shared ones above.
ARGS_FOR = {
    "modeler.edit_decision": {"key": "evaluation_rating", "filename": "star_rating.dmn"},
    # retiring a version is not undone by the next request: a model no other page uses
    "modeler.retire": {"key": "escrow_reconciliation"}, "modeler.reactivate": {"key": "escrow_reconciliation"},
    "modeler.migrate": {"key": "escrow_reconciliation"},
    "contracts.compare": {"contract_id": "filed_contract_id"},
    "evaluation.public_objection": {"community_id": "disclosed_community_id"},
    "inspections.photo": {"attachment_id": "photo_id"},
    "contracts.delete_opinion": {"opinion_id": "spare_opinion_id"},
}


def values_for(rule, world: dict) -> dict:
    names = dict(world)
    for name, source in ARGS_FOR.get(rule.endpoint, {}).items():
        names[name] = world.get(source, source)
    return {arg: names[arg] for arg in rule.arguments}


def login(app, role: str | None = None, *, username: str | None = None):
    client = app.test_client()
    response = client.post("/login", data={"username": username or USERNAMES[role], "password": DEMO_PASSWORD})
    assert response.status_code == 302, (role, username, response.get_data(as_text=True)[:500])
    return client
