"""The high-risk control list (高风险管控名单), policy 三(七).

The housing center proposes listing an enterprise and its responsible individuals with the
reason and evidence; the housing bureau approves, sends back or rejects (the proposer may
never approve). A listing notifies the owners of the enterprise's communities, enters the
credit file, and bars the enterprise from recommendations and emergency takeovers. The
enterprise may then correct and apply for removal: the center verifies, the bureau
approves, and history keeps both. One case (bpmn/high_risk_escalation.bpmn) covers both.
"""
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.engine import runtime
from app.engine.registry import operator
from app.extensions import db
from app.models import Community, CreditRecord, Disclosure, Enterprise, EnterpriseFiling, HighRiskListing, HighRiskPerson
from app.models.base import utcnow
from app.roles import N_
from app.services import audit, documents, orgs
from app.services.errors import Conflict, NotFound
from app.services.cases import summary
from app.services.notify import notify_committee, notify_enterprise
from app.services.tasks import last_completion

SHANGHAI = ZoneInfo("Asia/Shanghai")
PERSON_ROLE_ZH = {"legal_rep": N_("法定代表人"), "project_manager": N_("项目经理")}


def listing_for_instance(instance_id: int) -> HighRiskListing | None:
    return db.session.scalar(db.select(HighRiskListing).where(HighRiskListing.instance_id == instance_id))


def is_barred(enterprise_id: int) -> bool:
    """A listed enterprise may not be recommended nor take over a community in an emergency."""
    return db.session.scalar(db.select(HighRiskListing.id).where(
        HighRiskListing.enterprise_id == enterprise_id, HighRiskListing.status == "listed").limit(1)) is not None


def _open_listing(enterprise_id: int) -> HighRiskListing | None:
    return db.session.scalar(db.select(HighRiskListing).where(HighRiskListing.active_key == enterprise_id))


def _start(enterprise: Enterprise, *, actor, reason: str = "", evidence: str = "") -> HighRiskListing:
    listing = HighRiskListing(enterprise_id=enterprise.id, status="drafting", reason=reason, evidence=evidence,
                              active_key=enterprise.id)
    enterprise.risk_status = "proposed"
    db.session.add(listing)
    db.session.flush()
    audit.record("high_risk.start", listing, after={"enterprise": enterprise.name, "reason": reason}, actor=actor)
    instance = runtime.start("high_risk_escalation", business_key=f"high-risk-{listing.id}", actor=actor,
                             title=_("%(name)s · 高风险管控", name=enterprise.name), subject=listing,
                             data={"listing_id": listing.id}, orgs={"enterprise_id": enterprise.id})
    listing.instance_id = instance.id
    db.session.commit()
    return listing


def propose(user, enterprise_id: int) -> HighRiskListing:
    """The center opens a listing case; its first task is writing the proposal."""
    enterprise = db.session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound(_("企业不存在。"))
    if _open_listing(enterprise.id):
        raise Conflict(_("该企业已有一件正在办理或已生效的高风险管控。"))
    return _start(enterprise, actor=user)


def start_from_filing(filing_id: int) -> HighRiskListing | None:
    """Escalation of an enterprise that would not file; harmless when run twice."""
    filing = db.session.get(EnterpriseFiling, filing_id)
    if filing is None or _open_listing(filing.enterprise_id):
        return None
    reason = _("未按备案督促通知书的期限办理企业备案（实施方案三(六)、三(七)）。")
    evidence = _("备案督促通知书及逾期记录见备案案件 %(key)s。", key=f"filing-{filing.id}")
    return _start(filing.enterprise, actor=None, reason=reason, evidence=evidence)


def escalate(enterprise_id: int, reason: str, evidence: str) -> HighRiskListing | None:
    """Escalation from another process (a contract never signed or filed, …): a listing case
    whose proposal starts from `reason` and `evidence`; harmless when run twice."""
    enterprise = db.session.get(Enterprise, enterprise_id)
    if enterprise is None or _open_listing(enterprise.id):
        return None
    return _start(enterprise, actor=None, reason=reason, evidence=evidence)


# --- operators of bpmn/high_risk_escalation.bpmn ---------------------------------------------

def _listing(listing_id: int) -> HighRiskListing:
    return db.session.get(HighRiskListing, listing_id)


@operator("high_risk.record_proposal", "登记列入建议", params={"listing_id": "名单编号"})
def record_proposal(ctx, listing_id: int) -> dict:
    listing = _listing(listing_id)
    task = last_completion(ctx.instance_id, "propose")
    data = task.completed_data or {}
    from forms.filing import parse_people
    listing.reason, listing.evidence = data.get("reason", ""), data.get("evidence", "")
    listing.status, listing.proposed_by_id, listing.proposed_at = "proposed", task.completed_by_id, utcnow()
    listing.persons = []
    enterprise = listing.enterprise
    if data.get("list_legal_rep") and enterprise.legal_rep_id:
        listing.persons.append(HighRiskPerson(person_id=enterprise.legal_rep_id, role="legal_rep"))
    for person in parse_people(data.get("project_managers") or ""):
        row = orgs.get_or_create_person(person["name"], person["id_number"], person["phone"])
        listing.persons.append(HighRiskPerson(person_id=row.id, role="project_manager"))
    audit.record("high_risk.propose", listing, after={"reason": listing.reason, "persons": len(listing.persons)},
                 actor=task.completed_by)
    return {"persons": len(listing.persons)}


@operator("high_risk.decide", "记录住建局审核结论", params={"listing_id": "名单编号", "decision": "结论",
                                                        "comment": "意见"})
def decide(ctx, listing_id: int, decision: str, comment: str = "") -> dict:
    listing = _listing(listing_id)
    reviewer = last_completion(ctx.instance_id, "review").completed_by
    listing.decided_by_id, listing.decision_comment = reviewer.id, comment or ""
    enterprise = listing.enterprise
    if decision == "send_back":
        listing.status = "drafting"
    elif decision == "reject":
        listing.status, listing.active_key = "rejected", None
        enterprise.risk_status = "none"
    else:
        _list(ctx, listing)
    audit.record(f"high_risk.{decision}", listing, after={"comment": comment}, actor=reviewer)
    return {"decision": decision}


def _announce(ctx, listing: HighRiskListing, title, body: str, *, notice: bool = False) -> None:
    """The owners of every community the enterprise serves are told: a public notice on the
    community's page (with, for a listing, its written notice as a PDF) and word to the
    owners' committee's users; and the enterprise is told. `title` is a lazy text: the notice
    has it in the default language, the users are told in theirs."""
    enterprise = listing.enterprise
    listed_on = (listing.listed_at or utcnow()).astimezone(SHANGHAI).date()
    persons = [f"{_(PERSON_ROLE_ZH[p.role])} {p.person.name}" for p in listing.persons]
    for community in db.session.scalars(db.select(Community).where(Community.enterprise_id == enterprise.id)
                                        .order_by(Community.id)):
        pdf = documents.generate("documents/high_risk_notice.html", f"{community.name}列入高风险企业管控名单告知书",
                                 kind="high_risk_notice", instance_id=ctx.instance_id, enterprise=enterprise,
                                 community=community, listing=listing, listed_on=listed_on,
                                 persons=persons) if notice else None
        db.session.add(Disclosure(community_id=community.id, enterprise_id=enterprise.id, kind="high_risk",
                                  title=str(title), body=body, source_instance_id=ctx.instance_id,
                                  attachment_id=pdf.id if pdf else None))
        notify_committee(community.id, "high_risk", title, body)
    notify_enterprise(enterprise.id, "high_risk", title, body)


def _list(ctx, listing: HighRiskListing) -> None:
    enterprise = listing.enterprise
    listing.status, listing.listed_at = "listed", utcnow()
    enterprise.risk_status = "listed"
    title = _l("%(name)s 被列入高风险管控名单", name=enterprise.name)  # each reader's language (`_announce`)
    db.session.add(CreditRecord(enterprise_id=enterprise.id, kind="high_risk", positive=False, title=str(title),
                                detail=listing.reason, source=_("住建局"), source_instance_id=ctx.instance_id))
    for row in listing.persons:
        db.session.add(CreditRecord(enterprise_id=enterprise.id, person_id=row.person_id, kind="high_risk",
                                    positive=False, source=_("住建局"), source_instance_id=ctx.instance_id,
                                    title=_("%(role)s %(name)s 随企业列入高风险管控名单",
                                            role=_(PERSON_ROLE_ZH[row.role]), name=row.person.name)))
    _announce(ctx, listing, title, listing.reason, notice=True)


@operator("high_risk.record_application", "登记移出申请", params={"listing_id": "名单编号"})
def record_application(ctx, listing_id: int) -> dict:
    listing = _listing(listing_id)
    task = last_completion(ctx.instance_id, "apply_removal")
    listing.correction = (task.completed_data or {}).get("correction", "")
    audit.record("high_risk.apply_removal", listing, after={"correction": listing.correction}, actor=task.completed_by)
    return {}


@operator("high_risk.record_verification", "登记整改核实结论", params={"listing_id": "名单编号"})
def record_verification(ctx, listing_id: int) -> dict:
    listing = _listing(listing_id)
    task = last_completion(ctx.instance_id, "verify_removal")
    data = task.completed_data or {}
    listing.removal_verified_by_id = task.completed_by_id if data.get("verified") == "yes" else None
    audit.record("high_risk.verify_removal", listing, after=data, actor=task.completed_by)
    return {"verified": data.get("verified") == "yes"}


@operator("high_risk.remove", "移出高风险管控名单", params={"listing_id": "名单编号"})
def remove(ctx, listing_id: int) -> dict:
    listing = _listing(listing_id)
    approver = last_completion(ctx.instance_id, "approve_removal").completed_by
    enterprise = listing.enterprise
    listing.status, listing.removed_at, listing.active_key = "removed", utcnow(), None
    listing.removal_approved_by_id = approver.id
    enterprise.risk_status = "none"
    title = _l("%(name)s 已移出高风险管控名单", name=enterprise.name)
    db.session.add(CreditRecord(enterprise_id=enterprise.id, kind="high_risk", positive=True, title=str(title),
                                detail=listing.correction, source=_("住建局"), source_instance_id=ctx.instance_id))
    _announce(ctx, listing, title, listing.correction)
    audit.record("high_risk.remove", listing, after={"enterprise": enterprise.name}, actor=approver)
    return {}


# --- what people see -------------------------------------------------------------------------

def public_list() -> list[HighRiskListing]:
    return db.session.scalars(db.select(HighRiskListing).where(HighRiskListing.status == "listed")
                              .order_by(HighRiskListing.listed_at.desc())).all()


def listings_of(enterprise_id: int) -> list[HighRiskListing]:
    return db.session.scalars(db.select(HighRiskListing).where(HighRiskListing.enterprise_id == enterprise_id)
                              .order_by(HighRiskListing.id.desc())).all()



@summary("HighRiskListing")
def _listing_summary(subject_id):
    from app.web.labels import LISTING_STATUSES
    listing = db.session.get(HighRiskListing, subject_id)
    if listing is None:
        return []
    rows = [(_("企业"), listing.enterprise.name), (_("统一社会信用代码"), listing.enterprise.uscc),
            (_("状态"), str(LISTING_STATUSES.get(listing.status, listing.status)))]
    if listing.reason:
        rows.append((_("列入理由"), listing.reason))
    if listing.persons:
        rows.append((_("责任人"), "；".join(f"{_(PERSON_ROLE_ZH[p.role])} {p.person.name}（{p.person.id_number_masked}）"
                                          for p in listing.persons)))
    if listing.decision_comment:
        rows.append((_("审核意见"), listing.decision_comment))
    if listing.correction:
        rows.append((_("整改情况"), listing.correction))
    return rows
