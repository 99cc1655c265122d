"""Contract filing and review (合同备案审查), policy 三(七).

Two ways in. The enterprise files a signed contract (the center enters a developer's
preliminary contract after the tender the same way): key terms and the PDF, round 1, then
the center's review. Or the center finds a community without a signed contract and guides
signing: the enterprise signs on the model text and uploads it by a deadline in working
days, and the owners' committee confirms it signed.

The review (bpmn/contract_review.bpmn) checks the contract against the checklist and the
model text and accepts it (filed: a filing certificate), rejects it, or returns it with
per-clause revision opinions (delete / amend / add, with the proposed wording). The
enterprise answers each opinion of that round (accept, and upload the revised contract, or
argue) by a deadline; the reviewer of the next round marks each answered opinion resolved,
and an unresolved one is carried into the new round. Every round is kept.

A missed deadline or a refusal brings a correction order (PDF) with a new deadline; a
refusal or a miss after the order sends a risk notice to the community's owners and
escalates the enterprise to the high-risk list (app/services/high_risk.py), as a filing
refusal does. docs/contracts.md says why (policy 三(七): 责令改正 comes before 拒不整改).
"""
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import jobs
from app.engine import runtime
from app.engine.calendar import current_calendar, now
from app.engine.registry import operator
from app.extensions import db
from app.jobs import run_alone
from app.models import Community, Contract, ContractRound, HumanTask, RevisionOpinion
from app.models.base import utcnow
from app.permissions import reads_all, register_scope, scoped
from app.services import audit, documents, records
from app.services import contract_templates as templates
from app.services.cases import summary
from app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.services.notify import notify_committee, notify_enterprise
from app.services.tasks import last_completion, may_act

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROCESS = "contract_review"

KINDS = templates.KINDS
STATUSES = {"guidance": _l("待按示范文本签订"), "submitted": _l("待审查"), "returned": _l("退回修改"),
            "filed": _l("已备案"), "rejected": _l("不予备案"), "escalated": _l("拒不整改，已移交高风险管控"),
            "superseded": _l("已被新合同替代")}
ACTIONS = {"delete": _l("删除"), "amend": _l("修改"), "add": _l("增加")}
ANSWERS = {"accept": _l("采纳，已按意见修改"), "argue": _l("不采纳，说明理由")}
DECISIONS = {"accept": _l("准予备案"), "revise": _l("退回修改"), "reject": _l("不予备案"),
             "not_confirmed": _l("业主委员会未确认签订")}
LEVELS = {"level1": _l("一级"), "level2": _l("二级"), "level3": _l("三级"), "level4": _l("四级"),
          "agreed": _l("双方约定")}
TERM_LABELS = {"party_a": _l("甲方"), "tender_ref": _l("中标通知书编号"), "signed_on": _l("签订日期"),
               "starts_on": _l("起始日期"), "ends_on": _l("终止日期"), "fee_per_sqm": _l("物业费（元/平方米·月）"),
               "service_level": _l("服务等级")}

GUIDANCE_DAYS = 15  # default working days to sign on the model text
REVISE_DAYS = 10  # working days to answer the revision opinions
CORRECTION_DAYS = 10  # working days a correction order gives
EXPIRY_WINDOW_DAYS = 90  # contracts ending within this many days are due for renewal
MAX_FEE = Decimal("100.00")  # yuan per m² per month: a bigger figure is a unit mistake


def today() -> date:
    return now().astimezone(SHANGHAI).date()


def working_day_deadline(days: int) -> tuple[date, str]:
    """The n-th working day from today, and the moment it ends (what a timer waits for)."""
    day = current_calendar().add_working_days(today(), int(days)).date
    return day, datetime.combine(day, time(23, 59, 59), SHANGHAI).isoformat()


# ---------------------------------------------------------------- who sees what

@register_scope(Contract)
def _contract_scope(query, user):
    """Reviewers and departments all; an enterprise its own; a street office its
    communities'; an owners' committee its community's."""
    if reads_all(user):
        return query
    clauses = []
    if user.enterprise_id:
        clauses.append(Contract.enterprise_id == user.enterprise_id)
    if user.street_office_id:
        clauses.append(Contract.street_office_id == user.street_office_id)
    if user.owners_committee_id and user.owners_committee:
        clauses.append(Contract.community_id == user.owners_committee.community_id)
    return query.where(db.or_(*clauses) if clauses else db.false())


def visible(user, query=None):
    return scoped(Contract, user, query)


def get_for(user, contract_id: int) -> Contract:
    contract = db.session.scalar(visible(user).where(Contract.id == contract_id))
    if contract is None:
        raise NotFound(_("合同备案不存在。"))
    return contract


def for_instance(instance_id: int) -> Contract | None:
    return db.session.scalar(db.select(Contract).where(Contract.instance_id == instance_id))


def communities_for(user) -> list[Community]:
    """Communities the user may file a contract for: an enterprise those it manages; the
    center (a developer's preliminary contract) every community with an enterprise."""
    query = db.select(Community).order_by(Community.name)
    if user.has_role("housing_center", "admin"):
        query = query.where(Community.enterprise_id.is_not(None))
    elif user.enterprise_id:
        query = query.where(Community.enterprise_id == user.enterprise_id)
    else:
        return []
    return db.session.scalars(query).all()


def _open_case(community_id: int) -> Contract | None:
    return db.session.scalar(db.select(Contract).where(Contract.active_key == community_id))


def open_task(contract: Contract, *spec_ids: str) -> HumanTask | None:
    if not contract.instance_id:
        return None
    query = db.select(HumanTask).where(HumanTask.instance_id == contract.instance_id, HumanTask.status == "open")
    if spec_ids:
        query = query.where(HumanTask.spec_id.in_(spec_ids))
    return db.session.scalar(query.order_by(HumanTask.id))


def latest_round(contract: Contract) -> ContractRound | None:
    return contract.round_rows[-1] if contract.round_rows else None


def prior_opinions(contract: Contract, this_round: ContractRound | None) -> list[RevisionOpinion]:
    """The opinions the enterprise answered before submitting `this_round`: those of the
    last earlier round that was returned for revision."""
    if this_round is None:
        return []
    for row in reversed([r for r in contract.round_rows if r.number < this_round.number]):
        if row.decision == "revise":
            return list(row.opinions)
    return []


def answerable_round(contract: Contract) -> ContractRound | None:
    """The round whose opinions the enterprise answers now (while its revision is due)."""
    last = latest_round(contract)
    return last if last is not None and last.decision == "revise" and contract.status == "returned" else None


# ---------------------------------------------------------------- key terms

def _date(value, field: str, label: str, errors: dict) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if value in (None, ""):
        errors[field] = _("请填写%(label)s。", label=label)
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors[field] = _("%(label)s格式不正确（年-月-日）。", label=label)
        return None


def parse_fee(value) -> Decimal:
    """The fee per m² per month: a positive amount to the fen, at most MAX_FEE."""
    message = _("物业费须为大于 0 的金额（元/平方米·月），最多两位小数。")
    from app.services.escrow import parse_amount
    try:
        fee = parse_amount(value, "fee_per_sqm")
    except ValidationFailed:
        raise ValidationFailed(message, {"fee_per_sqm": message})
    if fee > MAX_FEE:
        too_big = _("物业费单价不能超过每平方米每月 %(max)s 元，请核对计费单位。", max=MAX_FEE)
        raise ValidationFailed(too_big, {"fee_per_sqm": too_big})
    return fee


def clean_terms(kind: str, data: dict) -> dict:
    """The key terms of a contract, typed, or ValidationFailed naming every bad field."""
    errors = {}
    party_a = (data.get("party_a") or "").strip()
    if not party_a:
        errors["party_a"] = _("请填写甲方名称。")
    tender_ref = (data.get("tender_ref") or "").strip()
    if kind == "preliminary" and not tender_ref:
        errors["tender_ref"] = _("前期物业服务合同须填写中标通知书编号（招投标备案）。")
    signed_on = _date(data.get("signed_on"), "signed_on", _("签订日期"), errors)
    starts_on = _date(data.get("starts_on"), "starts_on", _("起始日期"), errors)
    ends_on = _date(data.get("ends_on"), "ends_on", _("终止日期"), errors)
    if signed_on and signed_on > today():
        errors["signed_on"] = _("签订日期不能晚于今天。")
    if starts_on and ends_on and ends_on <= starts_on:
        errors["ends_on"] = _("合同终止日期须晚于起始日期。")
    fee = None
    try:
        fee = parse_fee(data.get("fee_per_sqm"))
    except ValidationFailed as e:
        errors.update(e.fields)
    level = data.get("service_level") or ""
    if level not in LEVELS:
        errors["service_level"] = _("请选择服务等级。")
    if errors:
        raise ValidationFailed(_("合同主要条款填写有误。"), errors)
    return {"party_a": party_a[:200], "tender_ref": tender_ref[:100], "signed_on": signed_on, "starts_on": starts_on,
            "ends_on": ends_on, "fee_per_sqm": fee, "service_level": level}


def _terms_json(terms: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, date) else str(v) if isinstance(v, Decimal) else v)
            for k, v in terms.items()}


def _apply_terms(contract: Contract, terms: dict) -> None:
    for name, value in terms.items():
        setattr(contract, name, value)


def is_pdf(upload) -> bool:
    """A PDF by name and by its first bytes (the stream is left where it was)."""
    if upload is None or not getattr(upload, "filename", ""):
        return False
    if not upload.filename.lower().endswith(".pdf"):
        return False
    stream = upload.stream
    position = stream.tell()
    head = stream.read(5)
    stream.seek(position)
    return head.startswith(b"%PDF")


def check_pdf(upload, field: str = "contract_pdf", *, required: bool = True) -> None:
    if upload is None or not getattr(upload, "filename", ""):
        if required:
            raise ValidationFailed(_("请上传合同 PDF 文件。"), {field: _("请上传已签订合同的 PDF 文件。")})
        return
    if not is_pdf(upload):
        raise ValidationFailed(_("合同文件须为 PDF。"), {field: _("只接受 PDF 格式的合同文件。")})


# ---------------------------------------------------------------- ways in

def _title(contract: Contract) -> str:
    return _("%(community)s · %(kind)s备案", community=contract.community.name, kind=KINDS[contract.kind])


def _orgs(contract: Contract) -> dict:
    return {"enterprise_id": contract.enterprise_id, "community_id": contract.community_id,
            "street_office_id": contract.street_office_id}


def _start(contract: Contract, actor, data: dict) -> None:
    instance = runtime.start(PROCESS, business_key=f"contract-{contract.id}", title=_title(contract), actor=actor,
                             subject=contract, orgs=_orgs(contract),
                             data={"contract_id": contract.id, "origin": contract.origin,
                                   "revise_days": REVISE_DAYS, **data})
    contract.instance_id = instance.id
    db.session.commit()


def _community_for(user, community_id, errors: dict) -> Community | None:
    community = db.session.get(Community, int(community_id)) if str(community_id or "").isdigit() else None
    if community is None:
        errors["community_id"] = _("请选择小区。")
    elif user.has_role("enterprise") and user.enterprise_id and not user.has_role("housing_center", "admin"):
        if community.enterprise_id != user.enterprise_id:
            errors["community_id"] = _("贵企业不是该小区的物业服务企业，不能为其备案合同。")
    elif community.enterprise_id is None:
        errors["community_id"] = _("该小区尚无物业服务企业。")
    return community


def submit_contract(user, data: dict, upload) -> Contract:
    """A signed contract filed by its enterprise, or by the center for the developer (a
    preliminary contract after the tender). Everything is checked before anything is kept."""
    if user.has_role("housing_center", "admin"):
        submitted_by = "developer"
    elif user.has_role("enterprise") and user.enterprise_id:
        submitted_by = "enterprise"
    else:
        raise Forbidden(_("只有物业服务企业或住保中心可以报送合同备案。"))
    errors = {}
    kind = data.get("kind")
    if kind not in KINDS:
        errors["kind"] = _("请选择合同类型。")
    elif submitted_by == "developer" and kind != "preliminary":
        errors["kind"] = _("住保中心代建设单位报送的只能是前期物业服务合同。")
    community = _community_for(user, data.get("community_id"), errors)
    try:
        terms = clean_terms(kind, data)
    except ValidationFailed as e:
        errors.update(e.fields)
    try:
        check_pdf(upload)
    except ValidationFailed as e:
        errors.update(e.fields)
    if errors:
        raise ValidationFailed(_("合同备案信息有误，请按提示修改。"), errors)
    if _open_case(community.id):
        raise Conflict(_("该小区已有一件正在办理的合同备案。"))
    contract = Contract(kind=kind, origin="submitted", submitted_by=submitted_by, community_id=community.id,
                        enterprise_id=community.enterprise_id, street_office_id=community.street_office_id,
                        template_id=getattr(templates.current(kind), "id", None), status="submitted", rounds=1,
                        created_by_id=user.id, active_key=community.id)
    _apply_terms(contract, terms)
    db.session.add(contract)
    db.session.flush()
    from app.services import attachments
    pdf = attachments.store(upload, field="contract_pdf", user=user)
    contract.round_rows.append(ContractRound(number=1, pdf_id=pdf.id, terms=_terms_json(terms),
                                             note=(data.get("note") or "").strip()[:2000], submitted_by_id=user.id))
    audit.record("contract.submit", contract, after={"community": community.name, "kind": kind,
                                                     "submitted_by": submitted_by, **_terms_json(terms)}, actor=user)
    _start(contract, user, {})
    pdf.instance_id = contract.instance_id
    db.session.commit()
    return contract


def start_guidance(user, community_id, kind: str, days, finding: str) -> Contract:
    """The center finds a community without a signed contract and guides signing on the
    model text, with a deadline in working days."""
    if not user.has_role("housing_center", "admin"):
        raise Forbidden(_("只有住保中心可以指导签订合同。"))
    errors = {}
    community = db.session.get(Community, int(community_id)) if str(community_id or "").isdigit() else None
    if community is None:
        errors["community_id"] = _("请选择小区。")
    elif community.enterprise_id is None:
        errors["community_id"] = _("该小区尚无物业服务企业。")
    if kind not in KINDS:
        errors["kind"] = _("请选择合同类型。")
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= 60:
        errors["days"] = _("签订期限须为 1 至 60 个工作日。")
    if not (finding or "").strip():
        errors["finding"] = _("请说明该小区未签订合同的情况。")
    if errors:
        raise ValidationFailed(_("指导签订信息有误。"), errors)
    if _open_case(community.id):
        raise Conflict(_("该小区已有一件正在办理的合同备案。"))
    committee = community.owners_committee
    contract = Contract(kind=kind, origin="guided", submitted_by="enterprise", community_id=community.id,
                        enterprise_id=community.enterprise_id, street_office_id=community.street_office_id,
                        template_id=getattr(templates.current(kind), "id", None), status="guidance",
                        party_a=committee.name if committee else "", decision_comment=finding.strip(),
                        created_by_id=user.id, active_key=community.id)
    db.session.add(contract)
    db.session.flush()
    audit.record("contract.guidance", contract, after={"community": community.name, "kind": kind, "days": days,
                                                       "finding": finding}, actor=user)
    _start(contract, user, {"guidance_days": days})
    return contract


def communities_without_contract() -> list[Community]:
    """Communities served by an enterprise with no filed contract and no open case."""
    covered = db.select(Contract.community_id).where(db.or_(Contract.status == "filed", Contract.active_key.is_not(None)))
    return db.session.scalars(db.select(Community).where(Community.enterprise_id.is_not(None),
                                                         Community.id.not_in(covered))
                              .order_by(Community.name)).all()


# ---------------------------------------------------------------- opinions and answers

def _require_task(user, contract: Contract, spec_id: str, closed_message) -> HumanTask:
    row = open_task(contract, spec_id)
    if row is None:
        raise Conflict(closed_message)
    if not may_act(user, row):
        raise Forbidden(_("您无权办理该合同备案的当前环节。"))
    return row


def _opinion(contract: Contract, opinion_id: int) -> RevisionOpinion:
    opinion = db.session.get(RevisionOpinion, opinion_id)
    if opinion is None or opinion.contract_id != contract.id:
        raise NotFound(_("删改意见不存在。"))
    return opinion


def clause_choices(contract: Contract) -> list[tuple[int, str]]:
    choices = [(0, str(_("全文或新增条款")))]
    if contract.template:
        choices += [(c.number, _("第 %(n)d 条 %(h)s", n=c.number, h=c.heading)) for c in contract.template.clauses]
    return choices


def add_opinion(user, contract_id: int, data: dict) -> RevisionOpinion:
    """A revision opinion on a clause of the round under review."""
    contract = get_for(user, contract_id)
    _require_task(user, contract, "review", _("该合同当前不在审查环节，不能提出删改意见。"))
    errors = {}
    action = data.get("action")
    if action not in ACTIONS:
        errors["action"] = _("请选择删除、修改或增加。")
    text = (data.get("text") or "").strip()
    if not text:
        errors["text"] = _("请填写删改意见的内容。")
    elif len(text) > 2000:
        errors["text"] = _("删改意见不能超过 2000 字。")
    wording = (data.get("proposed_wording") or "").strip()
    if action in ("amend", "add") and not wording:
        errors["proposed_wording"] = _("修改或增加条款时须给出建议条文。")
    clauses = dict(clause_choices(contract))
    try:
        clause_no = int(data.get("clause_no") or 0)
    except (TypeError, ValueError):
        clause_no = -1
    if clause_no not in clauses:
        errors["clause_no"] = _("请选择示范文本中的条款。")
    elif action in ("delete", "amend") and clause_no == 0:
        errors["clause_no"] = _("删除或修改须指明条款。")
    if errors:
        raise ValidationFailed(_("删改意见填写有误。"), errors)
    this_round = latest_round(contract)
    seq = max((o.seq for o in this_round.opinions), default=0) + 1
    heading = contract.template.clauses[clause_no - 1].heading if clause_no and contract.template else ""
    opinion = RevisionOpinion(contract_id=contract.id, round_id=this_round.id, seq=seq, clause_no=clause_no,
                              clause_heading=heading, action=action, text=text, proposed_wording=wording,
                              created_by_id=user.id)
    db.session.add(opinion)
    db.session.flush()
    audit.record("contract.opinion_add", opinion, after={"contract_id": contract.id, "round": this_round.number,
                                                         "clause_no": clause_no, "action": action, "text": text},
                 actor=user)
    db.session.commit()
    return opinion


def delete_opinion(user, contract_id: int, opinion_id: int) -> None:
    """The reviewer withdraws an opinion before completing the review."""
    contract = get_for(user, contract_id)
    _require_task(user, contract, "review", _("该合同当前不在审查环节，不能撤回删改意见。"))
    opinion = _opinion(contract, opinion_id)
    if opinion.round_id != latest_round(contract).id:
        raise Conflict(_("只能撤回本轮审查中提出的删改意见。"))
    audit.record("contract.opinion_delete", opinion, before={"text": opinion.text, "clause_no": opinion.clause_no},
                 actor=user)
    db.session.delete(opinion)
    db.session.commit()


def resolve_opinion(user, contract_id: int, opinion_id: int, resolved: bool) -> RevisionOpinion:
    """The reviewer of a new round says whether an answered opinion of the previous one is resolved."""
    contract = get_for(user, contract_id)
    _require_task(user, contract, "review", _("该合同当前不在审查环节。"))
    opinion = _opinion(contract, opinion_id)
    if opinion not in prior_opinions(contract, latest_round(contract)):
        raise Conflict(_("只能确认上一轮删改意见的落实情况。"))
    opinion.resolved, opinion.resolved_by_id, opinion.resolved_at = bool(resolved), user.id, utcnow()
    audit.record("contract.opinion_resolve", opinion, after={"resolved": opinion.resolved}, actor=user)
    db.session.commit()
    return opinion


def answer_opinion(user, contract_id: int, opinion_id: int, answer: str, text: str) -> RevisionOpinion:
    """The enterprise answers an opinion of the round just returned: it accepts (and uploads
    the revised contract with its submission) or argues, with its reasons."""
    contract = get_for(user, contract_id)
    _require_task(user, contract, "submit", _("该合同当前不需要答复删改意见。"))
    opinion = _opinion(contract, opinion_id)
    current = answerable_round(contract)
    if current is None or opinion.round_id != current.id:
        raise ValidationFailed(_("只能答复本轮的删改意见，以前轮次的意见不能再答复。"),
                               {"answer": _("该意见属于以前的轮次，不能再答复。")})
    errors = {}
    if answer not in ANSWERS:
        errors["answer"] = _("请选择采纳或不采纳。")
    text = (text or "").strip()
    if answer == "argue" and not text:
        errors["answer_text"] = _("不采纳时须说明理由。")
    elif len(text) > 2000:
        errors["answer_text"] = _("答复不能超过 2000 字。")
    if errors:
        raise ValidationFailed(_("答复填写有误。"), errors)
    opinion.answer, opinion.answer_text = answer, text
    opinion.answered_by_id, opinion.answered_at = user.id, utcnow()
    audit.record("contract.opinion_answer", opinion, after={"answer": answer, "text": text}, actor=user)
    db.session.commit()
    return opinion


# ---------------------------------------------------------------- rules of the task forms

def review_problems(contract: Contract, decision: str, checklist: list, comment: str) -> dict:
    """What keeps the reviewer from completing the review with this decision."""
    this_round = latest_round(contract)
    prior = prior_opinions(contract, this_round)
    problems = {}
    if any(o.resolved is None for o in prior):
        problems["decision"] = _("请先逐条确认上一轮删改意见是否已落实。")
    if decision == "accept":
        missing = [c for c in templates.CHECKLIST_CODES if c not in (checklist or [])]
        if missing:
            problems["checklist"] = _("准予备案须具备全部必备条款，缺少：%(items)s。",
                                      items="、".join(templates.checklist_label(c) for c in missing))
        if this_round.opinions:
            problems.setdefault("decision", _("本轮已提出删改意见，不能准予备案；请退回修改或撤回意见。"))
        elif any(o.resolved is False for o in prior):
            problems.setdefault("decision", _("上一轮有未落实的删改意见，不能准予备案。"))
    elif decision == "revise":
        if not this_round.opinions and not any(o.resolved is False for o in prior):
            problems.setdefault("decision", _("退回修改须至少提出一条删改意见。"))
    elif decision == "reject" and not (comment or "").strip():
        problems["comment"] = _("不予备案须说明理由。")
    return problems


def submission_problems(contract: Contract, response: str, has_upload: bool) -> dict:
    """What keeps the enterprise from submitting (the signed contract, or its revision)."""
    if response == "refuse":
        return {}
    current = answerable_round(contract)
    problems = {}
    if current is not None:
        unanswered = [o.seq for o in current.opinions if not o.answer]
        if unanswered:
            problems["response"] = _("请先逐条答复删改意见（第 %(n)s 条尚未答复）。",
                                     n="、".join(str(n) for n in unanswered))
        elif any(o.answer == "accept" for o in current.opinions) and not has_upload:
            problems["contract_pdf"] = _("已采纳删改意见，请上传修改后重新签订的合同 PDF。")
    elif not contract.round_rows and not has_upload:
        problems["contract_pdf"] = _("请上传已签订合同的 PDF 文件。")
    return problems


# ---------------------------------------------------------------- operators (contract_review.bpmn)

def _contract(contract_id) -> Contract:
    contract = db.session.get(Contract, int(contract_id))
    if contract is None:
        raise NotFound(_("合同备案不存在。"))
    return contract


def _deadline(contract: Contract, days: int) -> dict:
    contract.deadline, deadline_at = working_day_deadline(days)
    return {"deadline_at": deadline_at, "escalate": False}


@operator("contracts.issue_guidance", "生成签订指导通知书并确定签订期限",
          params={"contract_id": "合同备案编号", "days": "签订期限（工作日）"})
def issue_guidance(ctx, contract_id: int, days: int) -> dict:
    contract = _contract(contract_id)
    result = _deadline(contract, days)
    notice = documents.generate("documents/contract_guidance.html",
                                f"{contract.community.name}{KINDS[contract.kind]}签订指导通知书",
                                kind="contract_guidance", instance_id=ctx.instance_id, contract=contract,
                                kind_name=str(KINDS[contract.kind]), model_text=contract.template)
    contract.guidance_notice_id = notice.id
    notify_enterprise(contract.enterprise_id, "contract", _l("住保中心指导贵企业签订物业服务合同"),
                      _l("请于 %(d)s 前按示范文本与业主签订合同并上传。", d=contract.deadline.isoformat()))
    return result


@operator("contracts.issue_opinions", "出具删改意见书并确定修改期限（工作日）",
          params={"contract_id": "合同备案编号", "days": "修改期限（工作日）"})
def issue_opinions(ctx, contract_id: int, days: int) -> dict:
    """The letter of the round's revision opinions, with the deadline to answer them."""
    contract = _contract(contract_id)
    result = _deadline(contract, days)
    this_round = latest_round(contract)
    letter = documents.generate("documents/contract_opinions.html",
                                f"{contract.community.name}合同备案删改意见书（第{this_round.number}轮）",
                                kind="contract_opinions", instance_id=ctx.instance_id, contract=contract,
                                round=this_round, opinions=list(this_round.opinions), actions=ACTIONS,
                                kind_name=str(KINDS[contract.kind]), revise_days=days)
    this_round.opinions_letter_id = letter.id
    notify_enterprise(contract.enterprise_id, "contract", _l("合同备案退回修改"),
                      _l("住保中心对第 %(n)d 轮报送的合同提出 %(count)d 条删改意见，请于 %(d)s 前逐条答复。",
                        n=this_round.number, count=len(this_round.opinions), d=contract.deadline.isoformat()))
    return result


@operator("contracts.record_submission", "登记报送的合同", params={"contract_id": "合同备案编号"})
def record_submission(ctx, contract_id: int) -> dict:
    """A new round from what the enterprise just submitted; a contract not uploaded again
    stays as in the previous round."""
    contract = _contract(contract_id)
    task = last_completion(ctx.instance_id, "submit")
    data = task.completed_data or {}
    terms = clean_terms(contract.kind, data)
    previous = latest_round(contract)
    pdf_id = data.get("contract_pdf") or (previous.pdf_id if previous else None)
    contract.rounds += 1
    contract.round_rows.append(ContractRound(number=contract.rounds, pdf_id=pdf_id, terms=_terms_json(terms),
                                             note=(data.get("note") or "").strip()[:2000],
                                             submitted_by_id=task.completed_by_id))
    _apply_terms(contract, terms)
    contract.status, contract.deadline = "submitted", None
    needs_committee = contract.origin == "guided" and contract.community.owners_committee is not None
    audit.record("contract.resubmit" if previous else "contract.submit", contract,
                 after={"round": contract.rounds, "new_pdf": bool(data.get("contract_pdf")), **_terms_json(terms)},
                 actor=task.completed_by)
    return {"round": contract.rounds, "needs_committee": needs_committee}


@operator("contracts.committee_confirmed", "登记业主委员会的签订确认",
          params={"contract_id": "合同备案编号", "confirmed": "是否确认", "comment": "意见"})
def committee_confirmed(ctx, contract_id: int, confirmed: str, comment: str = "") -> dict:
    contract = _contract(contract_id)
    this_round = latest_round(contract)
    task = last_completion(ctx.instance_id, "confirm")
    this_round.committee_confirmed, this_round.committee_comment = confirmed == "yes", comment or ""
    if confirmed != "yes":
        this_round.decision, contract.status = "not_confirmed", "guidance"
        notify_enterprise(contract.enterprise_id, "contract", _l("业主委员会未确认签订物业服务合同"), comment or "")
    audit.record("contract.committee", contract, after={"round": this_round.number, "confirmed": confirmed == "yes",
                                                        "comment": comment}, actor=task.completed_by if task else None)
    return {"confirmed": confirmed == "yes"}


def _carry_unresolved(contract: Contract, this_round: ContractRound, reviewer) -> int:
    seq = max((o.seq for o in this_round.opinions), default=0)
    carried = 0
    for old in prior_opinions(contract, this_round):
        if old.resolved is False:
            seq += 1
            carried += 1
            db.session.add(RevisionOpinion(contract_id=contract.id, round_id=this_round.id, seq=seq,
                                           clause_no=old.clause_no, clause_heading=old.clause_heading,
                                           action=old.action, text=old.text, proposed_wording=old.proposed_wording,
                                           carried_from_id=old.id, created_by_id=getattr(reviewer, "id", None)))
    db.session.flush()
    db.session.expire(this_round, ["opinions"])
    return carried


@operator("contracts.decide", "记录审查结论（备案、退回修改或不予备案）",
          params={"contract_id": "合同备案编号", "decision": "结论", "checklist": "必备条款", "comment": "审查意见"})
def decide(ctx, contract_id: int, decision: str, checklist=None, comment: str = "") -> dict:
    contract = _contract(contract_id)
    reviewer = last_completion(ctx.instance_id, "review").completed_by
    this_round = latest_round(contract)
    this_round.decision, this_round.checklist = decision, list(checklist or [])
    this_round.review_comment, this_round.reviewed_by_id, this_round.reviewed_at = comment or "", reviewer.id, utcnow()
    contract.decision_comment = comment or ""
    if decision == "revise":
        carried = _carry_unresolved(contract, this_round, reviewer)
        contract.status = "returned"
        audit.record("contract.return", contract, after={"round": this_round.number, "carried": carried,
                                                         "opinions": len(this_round.opinions)}, actor=reviewer)
    elif decision == "accept":
        _file(ctx, contract, this_round, reviewer)
    else:
        contract.status, contract.active_key = "rejected", None
        notify_enterprise(contract.enterprise_id, "contract", _l("合同不予备案"), comment or "")
        audit.record("contract.reject", contract, after={"round": this_round.number, "comment": comment},
                     actor=reviewer)
    return {"decision": decision}


def _file(ctx, contract: Contract, this_round: ContractRound, reviewer) -> None:
    for older in db.session.scalars(db.select(Contract).where(Contract.community_id == contract.community_id,
                                                              Contract.status == "filed", Contract.id != contract.id)):
        older.status = "superseded"
    contract.status, contract.active_key, contract.deadline = "filed", None, None
    contract.filed_round, contract.filed_at = this_round.number, utcnow()
    certificate = documents.generate("documents/contract_certificate.html",
                                     f"{contract.community.name}{KINDS[contract.kind]}备案回执",
                                     kind="contract_certificate", instance_id=ctx.instance_id, contract=contract,
                                     round=this_round, kind_name=str(KINDS[contract.kind]),
                                     level=str(LEVELS.get(contract.service_level, "")))
    contract.certificate_id = certificate.id
    records.credit(contract.enterprise_id, "contract", _("%(community)s物业服务合同完成备案",
                                                         community=contract.community.name),
                   positive=True, source=_("住保中心"), instance_id=ctx.instance_id, actor=reviewer)
    notify_enterprise(contract.enterprise_id, "contract", _l("合同已备案"),
                      _l("%(community)s的合同已准予备案（第 %(n)d 轮）。", community=contract.community.name,
                        n=this_round.number))
    audit.record("contract.file", contract, after={"round": this_round.number, "ends_on": contract.ends_on},
                 actor=reviewer)


def _failure(contract: Contract) -> str:
    if contract.status == "returned":
        return _("未在期限内按删改意见修改并重新报送物业服务合同")
    return _("未在期限内与业主签订物业服务合同并报送备案")


@operator("contracts.noncompliance", "逾期或拒绝：责令改正，再次逾期或拒不整改则移交",
          params={"contract_id": "合同备案编号", "cause": "原因（deadline / refused）"})
def noncompliance(ctx, contract_id: int, cause: str) -> dict:
    """The first miss or refusal brings a correction order with a new deadline; a miss or a
    refusal after the order means escalation."""
    contract = _contract(contract_id)
    if cause == "deadline":
        contract.misses += 1
    task = last_completion(ctx.instance_id, "submit") if cause == "refused" else None
    reason = (_("拒绝签订或修改物业服务合同：%(r)s", r=(task.completed_data or {}).get("refusal_reason", ""))
              if task else _failure(contract))
    if contract.correction_order_id:
        audit.record("contract.noncompliance", contract, after={"cause": cause, "escalate": True, "reason": reason})
        return {"escalate": True, "reason": reason}
    result = _deadline(contract, CORRECTION_DAYS)
    order = documents.generate("documents/contract_correction_order.html",
                               f"{contract.enterprise.name}责令改正通知书（{contract.community.name}）",
                               kind="correction_order", instance_id=ctx.instance_id, contract=contract,
                               reason=reason, kind_name=str(KINDS[contract.kind]))
    contract.correction_order_id = order.id
    records.credit(contract.enterprise_id, "contract", _("物业服务合同被责令改正"), detail=reason,
                   source=_("住保中心"), instance_id=ctx.instance_id)
    notify_enterprise(contract.enterprise_id, "contract", _l("责令改正通知"),
                      _l("%(reason)s。请于 %(d)s 前改正，拒不整改的将书面告知业主并移交高风险企业管控。",
                        reason=reason, d=contract.deadline.isoformat()))
    audit.record("contract.correction_order", contract, after={"cause": cause, "deadline": contract.deadline,
                                                               "reason": reason})
    return {**result, "reason": reason}


@operator("contracts.escalate", "拒不整改：书面告知业主企业风险并移交高风险管控",
          params={"contract_id": "合同备案编号", "reason": "原因"})
def escalate(ctx, contract_id: int, reason: str = "") -> dict:
    contract = _contract(contract_id)
    enterprise, community = contract.enterprise, contract.community
    text = _("经市住保中心责令改正后，%(reason)s，拒不整改", reason=reason or _failure(contract))
    contract.status, contract.active_key, contract.deadline = "escalated", None, None
    pdf = documents.generate("documents/risk_notice.html", f"{community.name}风险提示函", kind="risk_notice",
                             instance_id=ctx.instance_id, enterprise=enterprise, community=community, reason=text)
    records.disclose(community.id, "risk_notice", _("风险提示：%(name)s 拒不整改物业服务合同问题", name=enterprise.name),
                     body=text, enterprise_id=enterprise.id, attachment_id=pdf.id, instance_id=ctx.instance_id)
    records.credit(enterprise.id, "contract", _("物业服务合同问题拒不整改"), detail=text, source=_("住保中心"),
                   instance_id=ctx.instance_id)
    audit.record("contract.escalate", contract, after={"reason": text})
    jobs.enqueue("workers.contracts.start_escalation", contract.id)
    return {"escalated": True}


def start_escalation(contract_id: int):
    """After the contract case committed: the high-risk case (harmless when run twice)."""
    from app.services import high_risk
    contract = db.session.get(Contract, contract_id)
    if contract is None or contract.status != "escalated":
        return None
    reason = _("%(community)s物业服务合同经责令改正后仍未签订或备案，拒不整改（实施方案三(七)）。",
               community=contract.community.name)
    evidence = _("责令改正通知书及逾期记录见合同备案案件 %(key)s。", key=f"contract-{contract.id}")
    return high_risk.escalate(contract.enterprise_id, reason, evidence)


# ---------------------------------------------------------------- renewal

def of_enterprise(user, enterprise_id: int) -> list[Contract]:
    """The enterprise's contracts the user may see, by community: each community's filed
    contract and any open case (contracts a newer one replaced are left out)."""
    query = (db.select(Contract).join(Community, Contract.community_id == Community.id)
             .where(Contract.enterprise_id == enterprise_id, Contract.status != "superseded")
             .order_by(Community.name, Contract.id.desc()))
    return db.session.scalars(visible(user, query)).all()


def expiring(user=None, within: int = EXPIRY_WINDOW_DAYS) -> list[Contract]:
    """Filed contracts that end within `within` days (soonest first)."""
    start = today()
    query = db.select(Contract).where(Contract.status == "filed", Contract.ends_on >= start,
                                      Contract.ends_on <= start + timedelta(days=within)).order_by(Contract.ends_on)
    if user is not None:
        query = visible(user, query)
    return db.session.scalars(query).all()


def send_renewal_reminders() -> int:
    """Once per contract: tell the enterprise and the owners' committee that the contract
    ends within 90 days and a renewed one must be signed and filed. Safe to run twice; a run
    at the same time as another stops at once (both would find the contract not reminded)."""
    if not run_alone("contracts.renewal_reminders"):
        return 0
    sent = 0
    for contract in expiring():
        if contract.renewal_reminded_at is not None:
            continue
        title = _l("%(community)s的物业服务合同将于 %(d)s 到期", community=contract.community.name,
                   d=contract.ends_on.isoformat())
        body = _l("请双方协商续签，并在续签后报送住保中心备案（实施方案三(七)）。")
        notify_enterprise(contract.enterprise_id, "contract_renewal", title, body)
        notify_committee(contract.community_id, "contract_renewal", title, body)
        contract.renewal_reminded_at = utcnow()
        audit.record("contract.renewal_reminder", contract, after={"ends_on": contract.ends_on})
        sent += 1
    db.session.commit()
    return sent


# ---------------------------------------------------------------- what people see

def compare(contract: Contract, number: int) -> dict:
    """Round n beside round n+1: the key terms that changed, and each opinion raised on
    round n with the enterprise's answer and whether round n+1 resolved it."""
    rounds = {r.number: r for r in contract.round_rows}
    if number not in rounds or number + 1 not in rounds:
        raise NotFound(_("没有可对照的轮次。"))
    old, new = rounds[number], rounds[number + 1]
    terms = [(str(label), old.terms.get(name, ""), new.terms.get(name, ""),
              old.terms.get(name, "") != new.terms.get(name, "")) for name, label in TERM_LABELS.items()]
    carried = {o.carried_from_id: o for o in new.opinions if o.carried_from_id}
    return {"old": old, "new": new, "terms": terms, "opinions": list(old.opinions), "carried": carried,
            "new_opinions": [o for o in new.opinions if not o.carried_from_id],
            "resolved": sum(1 for o in old.opinions if o.resolved),
            "unresolved": sum(1 for o in old.opinions if o.resolved is False)}


@summary("Contract")
def _summary(subject_id):
    c = db.session.get(Contract, subject_id)
    if c is None:
        return []
    rows = [(_("小区"), c.community.name), (_("物业企业"), c.enterprise.name), (_("合同类型"), str(KINDS[c.kind])),
            (_("状态"), str(STATUSES.get(c.status, c.status))), (_("报送轮次"), c.rounds)]
    if c.starts_on and c.ends_on:
        rows.append((_("合同期限"), f"{c.starts_on.isoformat()} — {c.ends_on.isoformat()}"))
    if c.fee_per_sqm is not None:
        rows.append((_("物业费（元/平方米·月）"), str(c.fee_per_sqm)))
    if c.deadline:
        rows.append((_("办理期限"), c.deadline.isoformat()))
    return rows
