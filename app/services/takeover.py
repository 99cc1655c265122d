"""Emergency community takeover (应急小区服务业务) and recommendations for new business,
policy 三(五).

A community left without property service (its enterprise withdrew, its contract ended or
it was removed) gets an emergency provider: the street office opens a takeover and
proposes candidates; each candidate must be filed (三(六)), under escrow supervision
(三(五)) and not on the high-risk list (三(七)). The one exception the policy names: a
public-benefit basic-service provider (公益性提供基础服务物业企业) may take a takeover without
escrow supervision — it must still be filed and not high-risk, and it is marked as an
exception wherever it appears. The street office head approves one candidate (only the
head of that street office, never the proposer), the housing center records the takeover,
the chosen enterprise accepts and serves for the period with the basic scope. Some working
days before the period ends a timer starts the owners' choice of a regular enterprise
(owners' committee, or an owners' assembly the street office organises), then the street
office supervises the handover: keys, documents, device accounts, escrow account.

Recommendations for new business exclude the unfiled, the unsupervised (no exception here:
the policy says the center and the departments do not recommend them) and the high-risk,
and rank the rest by `rating_rank`: the stars of the latest annual evaluation first
(app/services/evaluation.py rates them), then the credit file.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.engine import runtime
from app.engine.calendar import current_calendar, now
from app.engine.registry import operator
from app.extensions import db
from app.models import (Community, CreditRecord, EmergencyTakeover, Enterprise, HighRiskListing, HumanTask,
                        ProcessInstance, StreetOfficeHead, TakeoverCandidate, User)
from app.models.base import utcnow
from app.permissions import reads_all, register_scope, scoped
from app.services import audit, records
from app.services.cases import summary
from app.services.errors import Forbidden, NotFound, ValidationFailed
from app.services.notify import notify_enterprise
from app.services.tasks import last_completion

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROCESS = "emergency_takeover"
# The choice of a regular enterprise starts this many working days before the period ends
# (the policy names no figure; the domain notes give ~3 months' notice for a regular exit,
# an emergency period is short, so about a month).
SELECTION_LEAD_WORKING_DAYS = 20

CAUSES = {"withdrew": _l("原物业企业撤离"), "contract_ended": _l("物业服务合同到期终止"),
          "removed": _l("原物业企业被清退"), "other": _l("其他原因无物业服务")}
STATUSES = {"proposing": _l("待提出人选"), "approval": _l("待街道负责人审批"), "recording": _l("待住保中心备案"),
            "acceptance": _l("待企业确认承接"), "in_service": _l("应急服务中"), "selection": _l("选聘物业企业中"),
            "handover": _l("待交接"), "handed_over": _l("已交接"), "rejected": _l("未批准")}
OPEN_STATUSES = ("proposing", "approval", "recording", "acceptance", "in_service", "selection", "handover")
BASIC_SCOPE = {"cleaning": _l("公共区域清洁卫生"), "order": _l("秩序维护与门岗"), "facilities": _l("共用设施设备运行维护"),
               "garbage": _l("生活垃圾清运"), "greening": _l("绿化基本养护"), "fire_safety": _l("消防安全巡查")}
DEFAULT_SCOPE = ["cleaning", "order", "facilities", "garbage"]
HANDOVER_ITEMS = {"keys": _l("钥匙"), "documents": _l("物业资料（图纸、档案、台账）"),
                  "device_accounts": _l("智能设备账号（梯控、门禁、监控、员工管理）"),
                  "escrow_account": _l("资金监管账户移交")}
INELIGIBLE = {"unfiled": _l("未在住保中心备案"), "unsupervised": _l("未纳入物业服务费资金监管"),
              "high_risk": _l("已列入高风险企业管控名单")}
EXCEPTION_NOTE = _l("公益性基础服务企业，可不纳入资金监管（例外）")


def today() -> date:
    return now().astimezone(SHANGHAI).date()


# ---------------------------------------------------------------- who sees what

@register_scope(EmergencyTakeover)
def _takeover_scope(query, user):
    """Supervisors and departments all; a street office its own street's; an enterprise the
    takeovers it serves or takes over from; an owners' committee its community's."""
    if reads_all(user):
        return query
    clauses = []
    if user.street_office_id:
        clauses.append(EmergencyTakeover.street_office_id == user.street_office_id)
    if user.enterprise_id:
        clauses.append((EmergencyTakeover.enterprise_id == user.enterprise_id)
                       | (EmergencyTakeover.regular_enterprise_id == user.enterprise_id))
    if user.owners_committee_id and user.owners_committee:
        clauses.append(EmergencyTakeover.community_id == user.owners_committee.community_id)
    return query.where(db.or_(*clauses) if clauses else db.false())


def visible(user, query=None):
    return scoped(EmergencyTakeover, user, query)


def get_for(user, takeover_id: int) -> EmergencyTakeover:
    takeover = db.session.scalar(visible(user).where(EmergencyTakeover.id == takeover_id))
    if takeover is None:
        raise NotFound(_("应急接管不存在。"))
    return takeover


def for_instance(instance_id: int) -> EmergencyTakeover | None:
    return db.session.scalar(db.select(EmergencyTakeover).where(EmergencyTakeover.instance_id == instance_id))


# ---------------------------------------------------------------- street office heads

def register_head(user_id: int, street_office_id: int, actor=None) -> StreetOfficeHead:
    """Name a street office user the head (负责人) of their street office."""
    user = db.session.get(User, user_id)
    if user is None or not user.has_role("street_office") or user.street_office_id != street_office_id:
        raise ValidationFailed(_("负责人须为该街道办事处的用户。"), {"user_id": _("负责人须为该街道办事处的用户。")})
    row = db.session.get(StreetOfficeHead, user_id) or StreetOfficeHead(user_id=user_id)
    row.street_office_id = street_office_id
    db.session.add(row)
    audit.record("takeover.head_registered", target_type="User", target_id=user_id,
                 after={"street_office_id": street_office_id}, actor=actor)
    db.session.commit()
    return row


def is_head(user, street_office_id: int | None) -> bool:
    if not street_office_id or user.street_office_id != street_office_id:
        return False
    return db.session.scalar(db.select(StreetOfficeHead.user_id).where(
        StreetOfficeHead.user_id == user.id, StreetOfficeHead.street_office_id == street_office_id)) is not None


def head_of(street_office_id: int | None) -> User | None:
    """The registered head of a street office who is still one of its active users (the
    oldest account, if several); None when it has none."""
    if not street_office_id:
        return None
    for user in db.session.scalars(db.select(User).join(StreetOfficeHead, StreetOfficeHead.user_id == User.id)
                                   .where(StreetOfficeHead.street_office_id == street_office_id,
                                          User.active.is_(True)).order_by(User.id)):
        if is_head(user, street_office_id):
            return user
    return None


# ---------------------------------------------------------------- eligibility

@dataclass
class Eligibility:
    """Why an enterprise may or may not take an emergency takeover (or be recommended)."""

    enterprise: Enterprise
    reasons: list[str] = field(default_factory=list)  # codes of INELIGIBLE
    exception: bool = False  # eligible only through the public-benefit exception

    @property
    def eligible(self) -> bool:
        return not self.reasons

    def reason_texts(self) -> list[str]:
        return [str(INELIGIBLE[code]) for code in self.reasons]

    def describe(self) -> str:
        if self.reasons:
            return _("不符合：%(reasons)s", reasons="；".join(self.reason_texts()))
        return str(EXCEPTION_NOTE) if self.exception else _("符合条件")


def _listed_ids(enterprise_ids=None) -> set[int]:
    query = db.select(HighRiskListing.enterprise_id).where(HighRiskListing.status == "listed")
    if enterprise_ids is not None:
        query = query.where(HighRiskListing.enterprise_id.in_(list(enterprise_ids)))
    return set(db.session.scalars(query))


def check(enterprise: Enterprise, *, listed: set[int] | None = None, for_takeover: bool = True) -> Eligibility:
    """The eligibility of one enterprise. `for_takeover`: the public-benefit exception to
    escrow supervision applies (it does not for recommendations)."""
    listed = _listed_ids([enterprise.id]) if listed is None else listed
    result = Eligibility(enterprise)
    if enterprise.filing_status != "filed":
        result.reasons.append("unfiled")
    if not enterprise.under_supervision:  # kept by the escrow service when an agreement is signed
        if for_takeover and enterprise.is_public_benefit:
            result.exception = True
        else:
            result.reasons.append("unsupervised")
    if enterprise.risk_status == "listed" or enterprise.id in listed:
        result.reasons.append("high_risk")
    return result


def check_many(enterprises, *, for_takeover: bool = True) -> list[Eligibility]:
    enterprises = list(enterprises)
    listed = _listed_ids([e.id for e in enterprises])
    return [check(e, listed=listed, for_takeover=for_takeover) for e in enterprises]


# ---------------------------------------------------------------- rating and recommendations

@dataclass(frozen=True)
class RatingEvidence:
    stars: int | None
    credit_points: Decimal
    good_records: int
    bad_records: int


def rating_evidence(enterprise_ids) -> dict[int, RatingEvidence]:
    """What rates an enterprise today: its star rating (the annual evaluation's DMN rating,
    in force once the year's results are final; None until then) and its credit file — the
    sum of points and the good/bad records still in force."""
    ids = list(enterprise_ids)
    if not ids:
        return {}
    in_force = db.or_(CreditRecord.valid_until.is_(None), CreditRecord.valid_until >= today())
    rows = db.session.execute(
        db.select(CreditRecord.enterprise_id, db.func.coalesce(db.func.sum(CreditRecord.points), 0),
                  db.func.sum(db.case((CreditRecord.positive.is_(True), 1), else_=0)),
                  db.func.sum(db.case((CreditRecord.positive.is_(False), 1), else_=0)))
        .where(CreditRecord.enterprise_id.in_(ids), CreditRecord.person_id.is_(None), in_force)
        .group_by(CreditRecord.enterprise_id)).all()
    credit = {r[0]: (Decimal(r[1]), int(r[2] or 0), int(r[3] or 0)) for r in rows}
    stars = dict(db.session.execute(db.select(Enterprise.id, Enterprise.star_rating).where(Enterprise.id.in_(ids))).all())
    return {i: RatingEvidence(stars.get(i), *credit.get(i, (Decimal("0"), 0, 0))) for i in ids}


def rating_rank(enterprise: Enterprise, evidence: RatingEvidence) -> tuple:
    """Sort key, best first: the annual evaluation's star rating (unrated last), then the
    credit file's points in force, then fewer bad records, more good records, then the name."""
    return (evidence.stars is None, -(evidence.stars or 0), -evidence.credit_points, evidence.bad_records,
            -evidence.good_records, enterprise.name)


def ranked(eligibilities: list[Eligibility]) -> list[tuple[Eligibility, RatingEvidence]]:
    evidence = rating_evidence(e.enterprise.id for e in eligibilities)
    rows = [(e, evidence[e.enterprise.id]) for e in eligibilities]
    return sorted(rows, key=lambda row: rating_rank(row[0].enterprise, row[1]))


def rated_year() -> int | None:
    """The latest year whose annual evaluation results are in force (final), if any are."""
    from app.models import Evaluation
    return db.session.scalar(db.select(db.func.max(Evaluation.year)).where(Evaluation.status == "final",
                                                                           Evaluation.star_rating.is_not(None)))


def recommendations() -> tuple[list[tuple[Eligibility, RatingEvidence]], list[Eligibility]]:
    """(recommended, ranked best first; excluded, with their reasons) for new business."""
    everyone = check_many(db.session.scalars(db.select(Enterprise).order_by(Enterprise.name)), for_takeover=False)
    return ranked([e for e in everyone if e.eligible]), [e for e in everyone if not e.eligible]


def candidate_options() -> list[tuple[Eligibility, RatingEvidence]]:
    """Every enterprise as a takeover candidate: eligible ones first, ranked; then the rest."""
    everyone = check_many(db.session.scalars(db.select(Enterprise).order_by(Enterprise.name)))
    return ranked([e for e in everyone if e.eligible]) + [(e, None) for e in everyone if not e.eligible]


# ---------------------------------------------------------------- opening a takeover

def _open_for(community_id: int) -> EmergencyTakeover | None:
    return db.session.scalar(db.select(EmergencyTakeover).where(EmergencyTakeover.active_key == community_id))


def open_takeover(user, data: dict) -> EmergencyTakeover:
    """The street office records a community left without service and opens the case; its
    first task is proposing the candidates and the period."""
    if not user.has_role("street_office") or not user.street_office_id:
        raise Forbidden(_("只有街道办事处可以办理应急接管。"))
    errors = {}
    community = db.session.get(Community, int(data.get("community_id") or 0))
    if community is None or community.street_office_id != user.street_office_id:
        errors["community_id"] = _("请选择本街道的小区。")
    if data.get("cause") not in CAUSES:
        errors["cause"] = _("请选择无物业服务的原因。")
    situation = (data.get("situation") or "").strip()
    if not situation:
        errors["situation"] = _("请填写小区现状。")
    elif len(situation) > 4000:
        errors["situation"] = _("小区现状不能超过 4000 字。")
    if community is not None and "community_id" not in errors and _open_for(community.id):
        errors["community_id"] = _("该小区已有一件正在办理的应急接管，不能重复发起。")
    if errors:
        raise ValidationFailed(_("应急接管信息有误。"), errors)
    takeover = EmergencyTakeover(community_id=community.id, street_office_id=community.street_office_id,
                                 previous_enterprise_id=community.enterprise_id, cause=data["cause"],
                                 situation=situation, status="proposing", basic_scope=list(DEFAULT_SCOPE),
                                 created_by_id=user.id, active_key=community.id)
    db.session.add(takeover)
    db.session.flush()
    audit.record("takeover.open", takeover, after={"community": community.name, "cause": takeover.cause}, actor=user)
    instance = runtime.start(PROCESS, business_key=f"takeover-{takeover.id}", actor=user, subject=takeover,
                             title=_("%(name)s · 应急接管", name=community.name), data={"takeover_id": takeover.id},
                             orgs={"community_id": community.id, "street_office_id": community.street_office_id})
    takeover.instance_id = instance.id
    db.session.commit()
    return takeover


def proposal_problems(takeover: EmergencyTakeover, candidate_ids, starts_on, ends_on) -> dict:
    """Field errors of a proposal: every candidate eligible (or the exception), a period
    that ends after it starts and has not ended yet."""
    errors = {}
    enterprises = db.session.scalars(db.select(Enterprise).where(Enterprise.id.in_(list(candidate_ids or [])))).all()
    if not enterprises:
        errors["candidate_ids"] = _("请至少提出一家应急服务企业人选。")
    declined = {c.enterprise_id for c in takeover.candidates if c.status == "declined"} if takeover else set()
    problems = []
    for result in check_many(enterprises):
        if not result.eligible:
            problems.append(f"{result.enterprise.name}：{'；'.join(result.reason_texts())}")
        elif result.enterprise.id in declined:
            problems.append(_("%(name)s：已拒绝承接本小区", name=result.enterprise.name))
    if problems:
        errors["candidate_ids"] = _("以下人选不符合承接应急小区服务的条件：%(list)s", list="；".join(problems))
    if starts_on and ends_on and ends_on <= starts_on:
        errors["ends_on"] = _("服务期结束日期须晚于开始日期。")
    elif ends_on and ends_on <= today():
        errors["ends_on"] = _("服务期结束日期须晚于今天。")
    return errors


# ---------------------------------------------------------------- operators (emergency_takeover.bpmn)

def _takeover(takeover_id) -> EmergencyTakeover:
    takeover = db.session.get(EmergencyTakeover, int(takeover_id))
    if takeover is None:
        raise NotFound(_("应急接管不存在。"))
    return takeover


def _as_date(value) -> date | None:
    if isinstance(value, date):
        return value
    return date.fromisoformat(value) if value else None


@operator("takeover.record_proposal", "登记人选与服务期并核验人选资格", params={"takeover_id": "应急接管编号"})
def record_proposal(ctx, takeover_id: int) -> dict:
    """Keep the proposal and check each candidate again now: the gate counts the eligible."""
    takeover = _takeover(takeover_id)
    task = last_completion(ctx.instance_id, "propose")
    data = task.completed_data or {}
    chosen = [int(i) for i in data.get("candidate_ids") or []]
    takeover.starts_on, takeover.ends_on = _as_date(data.get("starts_on")), _as_date(data.get("ends_on"))
    takeover.basic_scope = [c for c in data.get("basic_scope") or [] if c in BASIC_SCOPE]
    takeover.proposed_by_id, takeover.proposed_at = task.completed_by_id, utcnow()
    existing = {c.enterprise_id: c for c in takeover.candidates}
    for c in takeover.candidates:
        if c.enterprise_id not in chosen and c.status == "proposed":
            c.status = "withdrawn"
    enterprises = {e.id: e for e in db.session.scalars(db.select(Enterprise).where(Enterprise.id.in_(chosen)))}
    results = {r.enterprise.id: r for r in check_many(enterprises.values())}
    eligible = 0
    for rank, enterprise_id in enumerate(chosen, start=1):
        candidate = existing.get(enterprise_id)
        if candidate is None:
            candidate = TakeoverCandidate(enterprise_id=enterprise_id)
            takeover.candidates.append(candidate)
        if candidate.status == "declined":
            continue
        result = results[enterprise_id]
        candidate.rank, candidate.status, candidate.checked_at = rank, "proposed", utcnow()
        candidate.eligible, candidate.exception, candidate.reasons = result.eligible, result.exception, result.reasons
        eligible += int(result.eligible)
    takeover.status = "approval" if eligible else "proposing"
    audit.record("takeover.propose", takeover, actor=task.completed_by, after={
        "candidates": chosen, "eligible": eligible, "starts_on": takeover.starts_on, "ends_on": takeover.ends_on,
        "scope": takeover.basic_scope})
    return {"eligible": eligible}


@operator("takeover.decide", "记录街道负责人审批结论",
          params={"takeover_id": "应急接管编号", "decision": "结论", "enterprise_id": "批准的企业", "comment": "意见"})
def decide(ctx, takeover_id: int, decision: str, enterprise_id: int = 0, comment: str = "") -> dict:
    takeover = _takeover(takeover_id)
    approver = last_completion(ctx.instance_id, "approve").completed_by
    takeover.approval_comment = comment or ""
    instance = db.session.get(ProcessInstance, ctx.instance_id)
    if decision == "approve":
        candidate = next(c for c in takeover.candidates if c.enterprise_id == int(enterprise_id))
        candidate.status = "chosen"
        takeover.enterprise_id, takeover.status = candidate.enterprise_id, "recording"
        takeover.approved_by_id, takeover.approved_at = approver.id, utcnow()
        instance.enterprise_id = candidate.enterprise_id  # the chosen enterprise acts on and sees the case
    elif decision == "reject":
        takeover.status, takeover.active_key = "rejected", None
    else:
        takeover.status = "proposing"
    audit.record(f"takeover.{decision}", takeover, actor=approver,
                 after={"enterprise_id": takeover.enterprise_id, "comment": comment})
    return {"decision": decision}


@operator("takeover.record", "住保中心备案登记", params={"takeover_id": "应急接管编号"})
def record(ctx, takeover_id: int) -> dict:
    takeover = _takeover(takeover_id)
    task = last_completion(ctx.instance_id, "record")
    takeover.record_no = f"YJ{today().year}-{takeover.id:04d}"
    takeover.recorded_by_id, takeover.recorded_at, takeover.status = task.completed_by_id, utcnow(), "acceptance"
    audit.record("takeover.record", takeover, actor=task.completed_by,
                 after={"record_no": takeover.record_no, "note": (task.completed_data or {}).get("note", "")})
    notify_enterprise(takeover.enterprise_id, "takeover", _l("请确认承接 %(name)s 应急物业服务", name=takeover.community.name),
                      _l("服务期 %(start)s 至 %(end)s。", start=takeover.starts_on, end=takeover.ends_on))
    return {"record_no": takeover.record_no}


def period_end(takeover: EmergencyTakeover) -> datetime:
    """The service period ends with its last day (Asia/Shanghai)."""
    return datetime.combine(takeover.ends_on, time(23, 59, 59), SHANGHAI)


def selection_start(takeover: EmergencyTakeover) -> datetime:
    """SELECTION_LEAD_WORKING_DAYS working days before the last day, at 09:00; now at the
    latest (a short period starts the choice at once)."""
    day = current_calendar().add_working_days(takeover.ends_on, -SELECTION_LEAD_WORKING_DAYS).date
    return max(datetime.combine(day, time(9, 0), SHANGHAI), now())


@operator("takeover.accept", "记录企业承接确认，开始应急服务期",
          params={"takeover_id": "应急接管编号", "decision": "是否承接"})
def accept(ctx, takeover_id: int, decision: str) -> dict:
    """Accepted: the enterprise serves the community from now on, the owners are told the
    period and scope, and the timer to choose a regular enterprise is set. Declined: the
    street office proposes again (the decliner cannot be proposed again)."""
    takeover = _takeover(takeover_id)
    task = last_completion(ctx.instance_id, "accept")
    data = task.completed_data or {}
    instance = db.session.get(ProcessInstance, ctx.instance_id)
    candidate = next(c for c in takeover.candidates if c.enterprise_id == takeover.enterprise_id)
    if decision != "accept":
        candidate.status, candidate.decline_reason = "declined", data.get("decline_reason") or ""
        audit.record("takeover.declined", takeover, actor=task.completed_by,
                     after={"enterprise_id": takeover.enterprise_id, "reason": candidate.decline_reason})
        takeover.enterprise_id, takeover.status, instance.enterprise_id = None, "proposing", None
        return {"accepted": False}
    community = takeover.community
    takeover.status, takeover.accepted_at = "in_service", utcnow()
    takeover.site_manager, takeover.site_phone = data.get("site_manager") or "", data.get("site_phone") or ""
    takeover.selection_starts_at = selection_start(takeover)
    community.enterprise_id = takeover.enterprise_id
    scope = "、".join(str(BASIC_SCOPE[c]) for c in takeover.basic_scope)
    records.disclose(community.id, "takeover", _("应急物业服务公示：%(name)s", name=takeover.enterprise.name),
                     body=_("经街道办事处批准、住保中心备案（%(no)s），%(name)s 自 %(start)s 至 %(end)s 为本小区提供应急物业服务，"
                            "服务范围：%(scope)s。", no=takeover.record_no, name=takeover.enterprise.name,
                            start=takeover.starts_on, end=takeover.ends_on, scope=scope),
                     enterprise_id=takeover.enterprise_id, instance_id=ctx.instance_id, ends_at=period_end(takeover))
    audit.record("takeover.accepted", takeover, actor=task.completed_by, after={
        "enterprise_id": takeover.enterprise_id, "selection_starts_at": takeover.selection_starts_at})
    return {"accepted": True, "selection_at": takeover.selection_starts_at.isoformat(),
            "ends_at": period_end(takeover).isoformat()}


@operator("takeover.start_selection", "服务期届满前启动选聘物业服务企业", params={"takeover_id": "应急接管编号"})
def start_selection(ctx, takeover_id: int) -> dict:
    takeover = _takeover(takeover_id)
    takeover.status = "selection"
    has_committee = takeover.community.owners_committee is not None
    audit.record("takeover.selection_started", takeover, after={"owners_committee": has_committee})
    return {"has_committee": has_committee}


def selection_problems(takeover: EmergencyTakeover, enterprise_id, decision_on) -> dict:
    errors = {}
    enterprise = db.session.get(Enterprise, int(enterprise_id or 0))
    if enterprise is None:
        errors["regular_enterprise_id"] = _("请选择业主选定的物业服务企业。")
    else:
        result = check(enterprise, for_takeover=False)
        barred = [str(INELIGIBLE[code]) for code in result.reasons if code in ("unfiled", "high_risk")]
        if barred:
            errors["regular_enterprise_id"] = _("%(name)s 不能承接：%(reasons)s", name=enterprise.name,
                                                reasons="；".join(barred))
    if decision_on and decision_on > today():
        errors["decision_on"] = _("决定日期不能晚于今天。")
    return errors


@operator("takeover.record_selection", "登记业主选定的物业服务企业", params={"takeover_id": "应急接管编号"})
def record_selection(ctx, takeover_id: int) -> dict:
    takeover = _takeover(takeover_id)
    task = last_completion(ctx.instance_id, "select_committee", "select_assembly")
    data = task.completed_data or {}
    takeover.regular_enterprise_id = int(data["regular_enterprise_id"])
    takeover.decided_by, takeover.decision_on = data.get("decided_by"), _as_date(data.get("decision_on"))
    takeover.decision_note, takeover.status = data.get("decision_note") or "", "handover"
    audit.record("takeover.selected", takeover, actor=task.completed_by, after={
        "regular_enterprise_id": takeover.regular_enterprise_id, "decided_by": takeover.decided_by,
        "decision_on": takeover.decision_on})
    notify_enterprise(takeover.regular_enterprise_id, "takeover",
                      _l("业主已选定贵企业为 %(name)s 的物业服务企业", name=takeover.community.name),
                      _l("请与应急服务企业在街道办事处监督下办理交接。"))
    return {"regular_enterprise_id": takeover.regular_enterprise_id}


def handover_problems(takeover: EmergencyTakeover, handover_on) -> dict:
    if takeover and takeover.decision_on and handover_on and handover_on < takeover.decision_on:
        return {"handover_on": _("交接日期不能早于业主决定日期（%(d)s）。", d=takeover.decision_on.isoformat())}
    if handover_on and handover_on > today():
        return {"handover_on": _("交接日期不能晚于今天。")}
    return {}


@operator("takeover.complete_handover", "完成交接，正式物业服务企业进驻", params={"takeover_id": "应急接管编号"})
def complete_handover(ctx, takeover_id: int) -> dict:
    takeover = _takeover(takeover_id)
    task = last_completion(ctx.instance_id, "handover")
    data = task.completed_data or {}
    takeover.handover_on = _as_date(data.get("handover_on"))
    takeover.handover_items = {code: data.get(f"{code}_note") or "" for code in HANDOVER_ITEMS if data.get(code)}
    takeover.status, takeover.handed_over_at, takeover.active_key = "handed_over", utcnow(), None
    community = takeover.community
    community.enterprise_id = takeover.regular_enterprise_id
    records.disclose(community.id, "takeover", _("物业服务企业交接完成：%(name)s", name=takeover.regular_enterprise.name),
                     body=_("应急服务企业 %(old)s 已于 %(d)s 向业主选定的 %(new)s 移交钥匙、物业资料、智能设备账号和资金监管账户。",
                            old=takeover.enterprise.name, d=takeover.handover_on, new=takeover.regular_enterprise.name),
                     enterprise_id=takeover.regular_enterprise_id, instance_id=ctx.instance_id)
    audit.record("takeover.handed_over", takeover, actor=task.completed_by, after={
        "regular_enterprise_id": takeover.regular_enterprise_id, "items": takeover.handover_items,
        "handover_on": takeover.handover_on})
    return {"handed_over": True}


# ---------------------------------------------------------------- what people see

CANDIDATE_STATUSES = {"proposed": _l("已提出"), "chosen": _l("已批准"), "declined": _l("拒绝承接"),
                      "withdrawn": _l("已撤回")}


def candidate_note(c: TakeoverCandidate) -> str:
    """The eligibility found for a candidate, as people read it."""
    if not c.eligible:
        return _("不符合：%(reasons)s", reasons="；".join(str(INELIGIBLE[r]) for r in c.reasons))
    return str(EXCEPTION_NOTE) if c.exception else _("符合条件")


def open_task(takeover: EmergencyTakeover) -> HumanTask | None:
    if not takeover.instance_id:
        return None
    return db.session.scalar(db.select(HumanTask).where(HumanTask.instance_id == takeover.instance_id,
                                                        HumanTask.status == "open").order_by(HumanTask.id).limit(1))


_NO_TASK = object()


def next_deadline(takeover: EmergencyTakeover, task=_NO_TASK) -> tuple[str, datetime | None]:
    """The next date that matters: an open task's due time, the start of the choice of a
    regular enterprise, or the end of the service period."""
    task = open_task(takeover) if task is _NO_TASK else task
    if task is not None and task.due_at:
        return task.name, task.due_at
    if takeover.status == "in_service" and takeover.selection_starts_at:
        return _("启动选聘"), takeover.selection_starts_at
    if takeover.status in ("selection", "handover") and takeover.ends_on:
        return _("服务期届满"), period_end(takeover)
    return (task.name if task else ""), None


def overview(user, status: str | None = None) -> list[dict]:
    """Takeovers the user may see with their next deadline, open ones first, soonest first."""
    query = visible(user).order_by(EmergencyTakeover.id.desc())
    if status:
        query = query.where(EmergencyTakeover.status == status)
    rows = []
    moment = now()
    far = datetime.max.replace(tzinfo=SHANGHAI)
    takeovers = db.session.scalars(query.limit(1000)).all()
    tasks = {}  # each case's first open task, in one query
    for task in db.session.scalars(db.select(HumanTask).where(
            HumanTask.instance_id.in_([t.instance_id for t in takeovers if t.instance_id]),
            HumanTask.status == "open").order_by(HumanTask.id.desc())):
        tasks[task.instance_id] = task
    for t in takeovers:
        task = tasks.get(t.instance_id)
        label, due = next_deadline(t, task)
        days_left = (t.ends_on - today()).days if t.ends_on and t.status in OPEN_STATUSES else None
        rows.append({"t": t, "task": task, "deadline_label": label, "deadline": due,
                     "overdue": bool(due and due < moment), "days_left": days_left})
    rows.sort(key=lambda r: (r["t"].status not in OPEN_STATUSES, r["deadline"] or far))
    return rows


def community_status(community_id: int) -> EmergencyTakeover | None:
    """The community's open takeover, else its latest one."""
    return db.session.scalar(db.select(EmergencyTakeover).where(EmergencyTakeover.community_id == community_id)
                             .order_by(EmergencyTakeover.active_key.is_(None), EmergencyTakeover.id.desc()).limit(1))


def in_emergency_service(takeover: EmergencyTakeover | None) -> bool:
    return takeover is not None and takeover.status in ("in_service", "selection", "handover")


@summary("EmergencyTakeover")
def _summary(subject_id):
    t = db.session.get(EmergencyTakeover, subject_id)
    if t is None:
        return []
    rows = [(_("小区"), t.community.name), (_("街道办事处"), t.street_office.name),
            (_("原因"), str(CAUSES.get(t.cause, t.cause))), (_("小区现状"), t.situation),
            (_("接管状态"), str(STATUSES.get(t.status, t.status)))]
    if t.candidates:
        rows.append((_("人选"), "；".join(f"{c.enterprise.name}（{candidate_note(c)}）"
                                         for c in t.candidates if c.status != "withdrawn")))
    if t.starts_on:
        rows.append((_("服务期"), f"{t.starts_on.isoformat()} — {t.ends_on.isoformat()}"))
        rows.append((_("基本服务范围"), "、".join(str(BASIC_SCOPE[c]) for c in t.basic_scope if c in BASIC_SCOPE)))
    if t.enterprise:
        rows.append((_("应急服务企业"), t.enterprise.name))
    if t.record_no:
        rows.append((_("备案编号"), t.record_no))
    if t.regular_enterprise:
        rows.append((_("业主选定的物业服务企业"), t.regular_enterprise.name))
    return rows


def may_open(user) -> bool:
    return user.has_role("street_office") and bool(user.street_office_id)

