"""Enterprise filing (备案), policy 三(六) and 三(七).

Two ways in: an enterprise files on its own (it signs up and starts bpmn/filing.bpmn), or
the housing center finds it operating unfiled and issues a filing demand with a deadline
in working days. The center reviews and accepts, or returns the filing with what to
supplement, as many rounds as needed. An enterprise that lets the demand's deadline pass,
or declares refusal, gets a written risk notice to the owners of every community it
serves and is escalated to the high-risk list (app/services/high_risk.py).
"""
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import jobs
from app.engine import runtime
from app.engine.calendar import current_calendar, now
from app.engine.registry import operator
from app.extensions import db
from app.models import Community, CreditRecord, Disclosure, Enterprise, EnterpriseFiling, HumanTask, User
from app.models.base import utcnow
from app.services import audit, documents, orgs, users
from app.services.notify import notify_enterprise
from app.services.long_jobs import runner
from app.services.tabular import read_table
from app.services.tasks import last_completion
from app.services.cases import summary
from app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.validators import is_valid_uscc

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEMAND_WORKING_DAYS = 10  # the default deadline of a filing demand


def today() -> date:
    return now().astimezone(SHANGHAI).date()


def filing_for_instance(instance_id: int) -> EnterpriseFiling | None:
    return db.session.scalar(db.select(EnterpriseFiling).where(EnterpriseFiling.instance_id == instance_id))


def default_deadline() -> date:
    return current_calendar().add_working_days(today(), DEMAND_WORKING_DAYS).date


# --- ways in -------------------------------------------------------------------------------

def signup_enterprise(data: dict) -> User:
    """An enterprise opens its account: the enterprise (unfiled) and its first user, or
    nothing at all when anything is wrong."""
    errors = {}
    uscc = (data.get("uscc") or "").strip().upper()
    if not is_valid_uscc(uscc):
        errors["uscc"] = _("统一社会信用代码格式或校验位不正确。")
    elif db.session.scalar(db.select(Enterprise.id).where(Enterprise.uscc == uscc)):
        errors["uscc"] = _("该统一社会信用代码已登记。如贵企业尚无账号，请联系住保中心开通。")
    username = (data.get("username") or "").strip()
    if db.session.scalar(db.select(User.id).where(User.username == username)):
        errors["username"] = _("用户名已存在。")
    if problem := users.password_problem(data.get("password") or ""):
        errors["password"] = problem
    if errors:
        raise ValidationFailed(_("注册信息有误。"), errors)
    enterprise = orgs.create_enterprise({**data, "uscc": uscc})
    return users.create_user(username, data["password"], ["enterprise"], display_name=data.get("contact_name") or "",
                             org_id=enterprise.id)


def _open_filing(enterprise_id: int) -> EnterpriseFiling | None:
    return db.session.scalar(db.select(EnterpriseFiling).where(EnterpriseFiling.active_key == enterprise_id))


def _start(filing: EnterpriseFiling, actor, data: dict):
    enterprise = filing.enterprise
    title = _("%(name)s · 企业备案", name=enterprise.name)
    instance = runtime.start("filing", business_key=f"filing-{filing.id}", title=title, actor=actor, subject=filing,
                             data={"filing_id": filing.id, **data}, orgs={"enterprise_id": enterprise.id})
    filing.instance_id = instance.id
    db.session.commit()
    return instance


def start_filing(user) -> EnterpriseFiling:
    """The enterprise's own filing (way in a)."""
    if not user.has_role("enterprise") or not user.enterprise_id:
        raise Forbidden(_("只有物业服务企业可以办理备案。"))
    enterprise = db.session.get(Enterprise, user.enterprise_id)
    if enterprise.filing_status == "filed":
        raise Conflict(_("贵企业已完成备案。"))
    if _open_filing(enterprise.id):
        raise Conflict(_("贵企业已有一件正在办理的备案，请在待办任务中继续。"))
    filing = EnterpriseFiling(enterprise_id=enterprise.id, origin="self", status="drafting", active_key=enterprise.id)
    enterprise.filing_status = "pending"
    db.session.add(filing)
    db.session.flush()
    audit.record("filing.start", filing, after={"enterprise": enterprise.name}, actor=user)
    _start(filing, user, {"origin": "self"})
    return filing


def register_unfiled(data: dict, actor) -> Enterprise:
    """Manual entry of an enterprise found operating in the city without filing."""
    return orgs.create_enterprise(data, actor=actor)


REGISTER_COLUMNS = {"企业名称": "name", "统一社会信用代码": "uscc", "住所": "address", "联系人": "contact_name",
                    "联系电话": "contact_phone"}


def import_register(filename: str, content: bytes, actor, step=None) -> dict:
    """Import the market-regulation register: enterprises not yet known are added as
    unfiled; known ones are skipped. Any invalid row refuses the whole file, each named by
    its row. `step(percent, message)` reports progress when run as a long job."""
    rows = read_table(filename, content, REGISTER_COLUMNS, ("企业名称", "统一社会信用代码"))
    known = set(db.session.scalars(db.select(Enterprise.uscc)))
    problems, new, seen = [], [], set()
    for number, row in enumerate(rows, start=2):
        if step and number % 500 == 0:
            step(10 + 50 * number // len(rows), _("已检查 %(n)d / %(total)d 行", n=number - 1, total=len(rows)))
        uscc = (row.get("uscc") or "").upper()
        if not row.get("name"):
            problems.append(_("第 %(n)d 行：缺少企业名称。", n=number))
        elif not is_valid_uscc(uscc):
            problems.append(_("第 %(n)d 行：统一社会信用代码“%(c)s”无效。", n=number, c=uscc))
        elif uscc in seen:
            problems.append(_("第 %(n)d 行：统一社会信用代码“%(c)s”在文件中重复。", n=number, c=uscc))
        elif uscc not in known:
            new.append({**row, "uscc": uscc})
        seen.add(uscc)
    if problems:
        raise ValidationFailed(_("名册有误，未导入任何企业。"), {"file": "\n".join(problems[:50])})
    for i, row in enumerate(new, start=1):
        db.session.add(Enterprise(name=row["name"][:200], uscc=row["uscc"], address=row.get("address", "")[:300],
                                  contact_name=row.get("contact_name", "")[:50],
                                  contact_phone=row.get("contact_phone", "")[:30]))
        if step and i % 500 == 0:
            step(60 + 35 * i // len(new), _("已写入 %(n)d / %(total)d 家", n=i, total=len(new)))
    audit.record("filing.import_register", target_type="Enterprise", after={"added": len(new), "rows": len(rows)},
                 actor=actor)
    db.session.commit()
    return {"added": len(new), "skipped": len(rows) - len(new)}


def start_register_import(filename: str, content: bytes, actor, back: str = ""):
    """Check the file can be read and has the register's columns (at the field, at once),
    then import it as a long job with progress: a city's register has thousands of rows."""
    from app.services import attachments, long_jobs
    read_table(filename, content, REGISTER_COLUMNS, ("企业名称", "统一社会信用代码"))
    upload = attachments.store_upload(filename, content, field="market_register", user=actor)
    return long_jobs.start("filing_register_import", _("导入市场监管登记名册"), actor, attachment_id=upload.id,
                           back=back)


@runner("filing_register_import")
def register_import_job(job, step):
    from app.models import Attachment
    from app.services import attachments
    upload = db.session.get(Attachment, job.params["attachment_id"])
    with open(attachments.path_of(upload), "rb") as source:
        content = source.read()
    step(10, _("检查名册"))
    result = import_register(upload.filename, content, job.created_by, step)
    job.message = _("已导入 %(added)d 家未登记企业，跳过已登记的 %(skipped)d 家。", **result)
    return None


def issue_demand(user, enterprise_id: int, deadline: date, finding: str) -> EnterpriseFiling:
    """Way in b: the center demands that an enterprise operating unfiled file by `deadline`."""
    enterprise = db.session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound(_("企业不存在。"))
    if enterprise.filing_status == "filed":
        raise ValidationFailed(_("该企业已备案。"), {"enterprise_id": _("该企业已备案。")})
    if _open_filing(enterprise.id):
        raise Conflict(_("该企业已有一件正在办理的备案。"))
    if deadline is None or deadline <= today():
        raise ValidationFailed(_("备案期限须晚于今天。"), {"deadline": _("备案期限须晚于今天。")})
    filing = EnterpriseFiling(enterprise_id=enterprise.id, origin="demand", status="demanded", deadline=deadline,
                              active_key=enterprise.id)
    enterprise.filing_status = "pending"
    db.session.add(filing)
    db.session.flush()
    audit.record("filing.demand", filing, after={"enterprise": enterprise.name, "deadline": deadline}, actor=user)
    # The deadline ends with the day: the timer fires at the first moment after it.
    deadline_at = datetime.combine(deadline, time(23, 59, 59), SHANGHAI)
    _start(filing, user, {"origin": "demand", "deadline_at": deadline_at.isoformat(), "finding": finding.strip()})
    return filing


# --- operators of bpmn/filing.bpmn ----------------------------------------------------------

@operator("filing.issue_demand_notice", "生成备案督促通知书", params={"filing_id": "备案编号"})
def issue_demand_notice(ctx, filing_id: int) -> dict:
    filing = db.session.get(EnterpriseFiling, filing_id)
    enterprise = filing.enterprise
    notice = documents.generate("documents/filing_demand.html", f"{enterprise.name}备案督促通知书",
                                kind="filing_demand", instance_id=ctx.instance_id, enterprise=enterprise,
                                filing=filing, communities=enterprise.communities)
    filing.demand_notice_id = notice.id
    notify_enterprise(enterprise.id, "filing", _l("住保中心要求贵企业办理备案"),
                       _l("请于 %(d)s 前登录系统提交备案材料。", d=filing.deadline.isoformat()))
    return {"notice_id": notice.id}


SUBMISSION_TASKS = ("submit", "submit_on_demand")
DOCUMENT_FIELDS = ("licence_scan", "other_documents")


def _community_rows(rows: list, earlier) -> list[dict]:
    """The filled-in community rows as kept: a community the system knows with its name and
    address as recorded there; a contract scan not uploaded again kept from the earlier round."""
    from forms.filing import is_blank_row, row_key
    kept = {row_key(r): r["contract_scan"] for r in (earlier if isinstance(earlier, list) else [])
            if r.get("contract_scan")}
    out = []
    for row in rows:
        if is_blank_row(row):
            continue
        community = db.session.get(Community, int(row["community_id"])) if row.get("community_id") else None
        out.append({"community_id": community.id if community else None,
                    "name": community.name if community else (row.get("name") or "").strip(),
                    "address": community.address if community else (row.get("address") or "").strip(),
                    "contract_starts": row.get("contract_starts"), "contract_ends": row.get("contract_ends"),
                    "contract_scan": row.get("contract_scan") or kept.get(row_key(row))})
    return out


@operator("filing.record_submission", "登记备案材料", params={"filing_id": "备案编号"})
def record_submission(ctx, filing_id: int) -> dict:
    """Keep what the enterprise just submitted; documents not uploaded again stay as before."""
    filing = db.session.get(EnterpriseFiling, filing_id)
    task = last_completion(ctx.instance_id, *SUBMISSION_TASKS)
    submitted = {k: v for k, v in (task.completed_data or {}).items() if k not in ("response", "refusal_reason")}
    details = dict(filing.details or {})
    for name in DOCUMENT_FIELDS:
        if not submitted.get(name):
            submitted[name] = details.get(name)
    submitted["communities"] = _community_rows(submitted.get("communities") or [], details.get("communities"))
    filing.details = submitted
    filing.rounds += 1
    filing.status, filing.submitted_at = "submitted", utcnow()
    audit.record("filing.submit", filing, after={"round": filing.rounds}, actor=task.completed_by)
    return {"round": filing.rounds}


@operator("filing.decide", "记录备案审核结论",
          params={"filing_id": "备案编号", "decision": "结论", "supplement_items": "需补正材料", "comment": "意见"})
def decide(ctx, filing_id: int, decision: str, supplement_items=None, comment: str = "") -> dict:
    from forms.filing import SUPPLEMENT_ITEMS
    filing = db.session.get(EnterpriseFiling, filing_id)
    enterprise = filing.enterprise
    reviewer = last_completion(ctx.instance_id, "review").completed_by
    filing.review_comment, filing.decided_at = comment or "", utcnow()
    if decision != "accept":
        labels = dict(SUPPLEMENT_ITEMS)
        filing.status = "returned"
        filing.supplement_items = [str(labels.get(item, item)) for item in (supplement_items or [])]
        audit.record("filing.return", filing, after={"items": filing.supplement_items, "comment": comment},
                     actor=reviewer)
        notify_enterprise(enterprise.id, "filing", _l("备案材料需补正"), "；".join(filing.supplement_items) + "\n" + (comment or ""))
        return {"accepted": False}
    filing.status, filing.supplement_items, filing.active_key = "accepted", [], None
    enterprise.filing_status = "filed"
    details = filing.details
    enterprise.address = details.get("registered_address") or enterprise.address
    if details.get("legal_rep_id_number"):
        enterprise.legal_rep = orgs.get_or_create_person(details.get("legal_rep_name", ""),
                                                         details["legal_rep_id_number"])
    rows = _link_communities(filing, enterprise, reviewer)
    db.session.add(CreditRecord(enterprise_id=enterprise.id, kind="filing", positive=True, title=_("完成企业备案"),
                                source=_("住保中心"), source_instance_id=ctx.instance_id))
    audit.record("filing.accept", filing, after={"enterprise": enterprise.name}, actor=reviewer)
    others = [r["name"] for r in rows if r.get("outcome") == "other"]
    notify_enterprise(enterprise.id, "filing", _l("贵企业已完成备案"),
                      _l("以下小区在系统中登记由其他企业服务，备案未变更其服务企业：%(names)s", names="、".join(others))
                      if others else "")
    return {"accepted": True}


# Where a filed community stands in the system: before the decision ("free") and after it.
COMMUNITY_STANDING = {"free": _l("尚无服务企业：准予备案后登记为本企业服务"), "linked": _l("已登记为本企业服务"),
                      "already": _l("系统中已登记为本企业服务"), "other": _l("系统中登记由其他企业服务：备案不变更其服务企业"),
                      "unknown": _l("系统中尚无该小区")}


def _link_communities(filing: EnterpriseFiling, enterprise: Enterprise, actor) -> list[dict]:
    """On acceptance, a filed community the system knows and no enterprise serves is recorded
    as served by this one. One that another enterprise serves is left as it is: a filing
    changes no enterprise's communities (policy 三(五): 在不改变全市现有的物业服务企业服务物业小区
    的基础上); a change of enterprise goes through the owners' choice and the handover
    (app/services/takeover.py). Each row keeps what happened (`outcome`)."""
    rows = []
    for row in filing.details.get("communities") or []:
        if not isinstance(row, dict):  # a filing from before the communities were structured
            continue
        row = dict(row)
        community = db.session.get(Community, row["community_id"]) if row.get("community_id") else None
        if community is None:
            row["outcome"] = "unknown"
        elif community.enterprise_id is None:
            community.enterprise_id, row["outcome"] = enterprise.id, "linked"
            audit.record("community.enterprise", community, before={"enterprise_id": None},
                         after={"enterprise_id": enterprise.id, "filing_id": filing.id}, actor=actor)
        elif community.enterprise_id == enterprise.id:
            row["outcome"] = "already"
        else:
            row["outcome"], row["other_enterprise"] = "other", community.enterprise.name
        rows.append(row)
    if rows:
        filing.details = {**filing.details, "communities": rows}
    return rows


@operator("filing.refused", "逾期或拒不备案：向业主发出风险提示并移交高风险管控",
          params={"filing_id": "备案编号", "cause": "原因（deadline / declared）"})
def refused(ctx, filing_id: int, cause: str) -> dict:
    """A written risk notice per community (PDF and public disclosure), a credit record,
    and the escalation to the high-risk process, started once this case has committed."""
    filing = db.session.get(EnterpriseFiling, filing_id)
    enterprise = filing.enterprise
    reason = (_("逾期未按备案督促通知书办理备案") if cause == "deadline" else
              _("明确表示拒不备案：%(r)s", r=(last_completion(ctx.instance_id, "submit_on_demand").completed_data
                                        or {}).get("refusal_reason", "")))
    filing.status, filing.active_key, filing.decided_at = "refused", None, utcnow()
    enterprise.filing_status = "refused"
    communities = db.session.scalars(db.select(Community).where(Community.enterprise_id == enterprise.id)
                                     .order_by(Community.id)).all()
    for community in communities:
        pdf = documents.generate("documents/risk_notice.html", f"{community.name}风险提示函", kind="risk_notice",
                                 instance_id=ctx.instance_id, enterprise=enterprise, community=community, reason=reason)
        db.session.add(Disclosure(community_id=community.id, enterprise_id=enterprise.id, kind="risk_notice",
                                  title=_("风险提示：%(name)s 未依规备案", name=enterprise.name), body=reason,
                                  attachment_id=pdf.id, source_instance_id=ctx.instance_id))
    db.session.add(CreditRecord(enterprise_id=enterprise.id, kind="filing", positive=False,
                                title=_("未依规办理备案"), detail=reason, source=_("住保中心"),
                                source_instance_id=ctx.instance_id))
    audit.record("filing.refused", filing, after={"cause": cause, "communities": len(communities)})
    jobs.enqueue("workers.filing.start_escalation", filing.id)
    return {"notices": len(communities)}


# --- what people see -------------------------------------------------------------------------

@summary("EnterpriseFiling")
def _filing_summary(subject_id):
    from app.web.labels import FILING_STATUSES
    filing = db.session.get(EnterpriseFiling, subject_id)
    if filing is None:
        return []
    rows = [(_("企业"), filing.enterprise.name), (_("统一社会信用代码"), filing.enterprise.uscc),
            (_("备案状态"), str(FILING_STATUSES.get(filing.status, filing.status))), (_("提交轮次"), filing.rounds)]
    if filing.deadline:
        rows.append((_("备案期限"), filing.deadline.isoformat()))
    if filing.supplement_items:
        rows.append((_("需补正的材料"), "；".join(filing.supplement_items)))
    if filing.review_comment:
        rows.append((_("审核意见"), filing.review_comment))
    return rows


def submission_view(filing: EnterpriseFiling) -> dict | None:
    """What the enterprise submitted last, for the review: the main facts, the documents,
    and each community with its contract and where it stands in the system (so the reviewer
    sees before accepting which communities the filing will record, and which another
    enterprise serves); also the communities recorded as this enterprise's but not filed."""
    from app.models import Attachment
    from forms.filing import parse_people
    details = filing.details or {}
    if not filing.rounds or not details:
        return None
    rows = []
    for row in details.get("communities") if isinstance(details.get("communities"), list) else []:
        community = db.session.get(Community, row["community_id"]) if row.get("community_id") else None
        standing = row.get("outcome")
        if standing is None:
            standing = ("unknown" if community is None else "free" if community.enterprise_id is None else
                        "already" if community.enterprise_id == filing.enterprise_id else "other")
        other = row.get("other_enterprise") or (community.enterprise.name if standing == "other" and community
                                                 and community.enterprise else "")
        rows.append({**row, "community": community, "standing": standing, "standing_label": COMMUNITY_STANDING[standing],
                     "other_enterprise": other})
    listed = {r["community_id"] for r in rows if r.get("community_id")}
    unlisted = [c for c in db.session.scalars(db.select(Community).where(Community.enterprise_id == filing.enterprise_id)
                                              .order_by(Community.name)) if c.id not in listed]
    ids = [details.get(n) for n in DOCUMENT_FIELDS] + [r.get("contract_scan") for r in rows]
    files = {a.id: a for a in db.session.scalars(db.select(Attachment).where(Attachment.id.in_([i for i in ids if i])))}
    try:
        managers = parse_people(details.get("managers") or "")
    except ValueError:
        managers = []
    return {"filing": filing, "details": details, "rows": rows, "unlisted": unlisted, "files": files,
            "legacy_communities": details.get("communities") if isinstance(details.get("communities"), str) else "",
            "managers": managers}


def filings_of(enterprise_id: int) -> list[EnterpriseFiling]:
    return db.session.scalars(db.select(EnterpriseFiling).where(EnterpriseFiling.enterprise_id == enterprise_id)
                              .order_by(EnterpriseFiling.id.desc())).all()


def open_task_for(filing: EnterpriseFiling) -> HumanTask | None:
    """The enterprise's open task of a filing case, if it has one."""
    return db.session.scalar(db.select(HumanTask).where(
        HumanTask.instance_id == filing.instance_id, HumanTask.status == "open", HumanTask.role == "enterprise"))
