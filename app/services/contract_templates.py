"""The city's model texts (示范文本) of the preliminary and the regular property-service
contract, policy 三(七): versioned, with numbered clauses, each clause tagged with the item
of the review checklist it covers.

The housing center drafts a version; the justice bureau countersigns it, which publishes
it and retires the version it replaces (the drafter never countersigns their own draft).
A version must cover every checklist item before it can be published.
"""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.models import ContractTemplate, TemplateClause
from app.models.base import utcnow
from app.services import audit
from app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed

KINDS = {"preliminary": _l("前期物业服务合同"), "regular": _l("物业服务合同")}
TEMPLATE_STATUSES = {"draft": _l("草稿（待司法局会签）"), "published": _l("现行版本"), "retired": _l("已废止")}

# The review checklist: what every contract must contain (policy 三(七), 四(四), and the
# escrow agreement). The reviewer ticks what the submitted contract contains.
CHECKLIST = [
    ("scope", _l("服务事项和服务范围")),
    ("standards", _l("服务标准")),
    ("fee", _l("服务费用及其计费依据")),
    ("rights", _l("双方权利义务")),
    ("term", _l("合同期限")),
    ("termination", _l("合同解除与终止")),
    ("liability", _l("违约责任")),
    ("escrow", _l("物业服务费资金监管")),
]
CHECKLIST_CODES = [code for code, _label in CHECKLIST]


def checklist_label(code: str) -> str:
    return str(dict(CHECKLIST).get(code, code))


def current(kind: str) -> ContractTemplate | None:
    """The published version of a kind's model text."""
    return db.session.scalar(db.select(ContractTemplate).where(
        ContractTemplate.kind == kind, ContractTemplate.status == "published")
        .order_by(ContractTemplate.version.desc()).limit(1))


def all_versions() -> list[ContractTemplate]:
    return db.session.scalars(db.select(ContractTemplate).order_by(ContractTemplate.kind,
                                                                   ContractTemplate.version.desc())).all()


def get(template_id: int) -> ContractTemplate:
    template = db.session.get(ContractTemplate, template_id)
    if template is None:
        raise NotFound(_("示范文本不存在。"))
    return template


def _clean(title: str, clauses: list[dict]) -> tuple[str, list[dict]]:
    errors = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = _("请填写示范文本名称。")
    rows = []
    for index, clause in enumerate(clauses or []):
        heading, text = (clause.get("heading") or "").strip(), (clause.get("text") or "").strip()
        item = (clause.get("checklist_item") or "").strip() or None
        if not heading and not text:
            continue  # an empty row of the form
        if not heading or not text:
            errors[f"clauses-{index}"] = _("第 %(n)d 条须同时填写标题和条文。", n=len(rows) + 1)
        if item and item not in CHECKLIST_CODES:
            errors[f"clauses-{index}"] = _("第 %(n)d 条的审查项无效。", n=len(rows) + 1)
        rows.append({"heading": heading[:200], "text": text, "checklist_item": item})
    if not rows:
        errors["clauses"] = _("示范文本至少须有一条条款。")
    if errors:
        raise ValidationFailed(_("示范文本填写有误。"), errors)
    return title[:200], rows


def missing_items(template: ContractTemplate) -> list[str]:
    covered = {c.checklist_item for c in template.clauses}
    return [code for code in CHECKLIST_CODES if code not in covered]


def save_draft(user, kind: str, title: str, note: str, clauses: list[dict],
               template_id: int | None = None) -> ContractTemplate:
    """A new draft version of a kind's model text (numbered in order), or changes to a draft."""
    if not user.has_role("housing_center", "admin"):
        raise Forbidden(_("示范文本由住保中心起草。"))
    if kind not in KINDS:
        raise ValidationFailed(_("示范文本填写有误。"), {"kind": _("请选择合同类型。")})
    title, rows = _clean(title, clauses)
    if template_id:
        template = get(template_id)
        if template.status != "draft":
            raise Conflict(_("已发布的示范文本不能修改，请起草新版本。"))
        template.clauses.clear()
        db.session.flush()
    else:
        latest = db.session.scalar(db.select(db.func.max(ContractTemplate.version))
                                   .where(ContractTemplate.kind == kind)) or 0
        template = ContractTemplate(kind=kind, version=latest + 1, drafted_by_id=user.id, status="draft")
        db.session.add(template)
    template.title, template.note = title, (note or "").strip()
    for number, row in enumerate(rows, start=1):
        template.clauses.append(TemplateClause(number=number, **row))
    db.session.flush()
    audit.record("contract_template.draft", template, after={"kind": kind, "version": template.version,
                                                             "clauses": len(rows)}, actor=user)
    db.session.commit()
    return template


def publish(user, template_id: int) -> ContractTemplate:
    """The justice bureau countersigns a draft: it becomes the kind's current model text."""
    template = get(template_id)
    if not user.has_role("justice_bureau"):
        raise Forbidden(_("示范文本须经司法局会签后发布。"))
    if template.status != "draft":
        raise Conflict(_("该版本已发布或已废止。"))
    if template.drafted_by_id == user.id:
        raise Forbidden(_("起草人不能会签自己起草的示范文本。"))
    if missing := missing_items(template):
        raise ValidationFailed(_("示范文本缺少审查清单要求的必备条款：%(items)s。",
                                 items="、".join(checklist_label(c) for c in missing)))
    for old in db.session.scalars(db.select(ContractTemplate).where(ContractTemplate.kind == template.kind,
                                                                    ContractTemplate.status == "published")):
        old.status = "retired"
    template.status, template.countersigned_by_id, template.published_at = "published", user.id, utcnow()
    audit.record("contract_template.publish", template, after={"kind": template.kind, "version": template.version},
                 actor=user)
    db.session.commit()
    return template


# ---------------------------------------------------------------- the first versions

_COMMON = [
    ("服务事项和服务范围", "scope",
     "乙方提供的物业服务包括：物业共用部位、共用设施设备的运行、维修、养护和管理；公共绿化、环境卫生、秩序维护；"
     "车辆停放管理；物业档案管理；以及双方约定的其他服务事项。服务范围为本物业管理区域内的全部共用部位和共用设施设备。"),
    ("服务标准", "standards",
     "乙方按照《吉首市物业服务行业标准》和双方约定的服务等级提供服务，服务内容和质量标准详见附件《物业服务标准》。"),
    ("物业服务费用及计费依据", "fee",
     "物业服务费按建筑面积计收，标准为每月每平方米____元，计费依据为经公示的服务等级和收费标准。"
     "费用构成包括管理服务人员费用、共用部位及设施设备日常运行维护费用、绿化和清洁卫生费用、秩序维护费用等。"),
    ("物业服务费资金监管", "escrow",
     "业主缴纳的物业服务费按《吉首市物业服务企业治理监管方案》缴存至市住保中心开立的监管账户，线下收取的费用应及时存入监管账户。"
     "乙方按季度申请拨付，履约保证金不低于年度应收物业服务费的 5%，年终按考核结果结算。"),
    ("甲方的权利义务", "rights",
     "甲方有权监督乙方的物业服务活动，审议物业服务年度计划和费用收支情况；甲方应当协助乙方做好物业服务工作，督促业主按时缴纳物业服务费。"),
    ("乙方的权利义务", "rights",
     "乙方应当按照本合同约定提供服务，定期公布物业服务费收支情况，接受业主、业主委员会及市住保中心的监督；乙方有权依约收取物业服务费。"),
]
_TAIL = [
    ("合同的解除和终止", "termination",
     "一方严重违约致使合同目的不能实现的，另一方可以解除合同。合同终止时，乙方应在十日内向甲方或其指定的单位移交物业服务用房、"
     "物业档案资料、设施设备及监管账户资金明细，并配合新物业服务企业做好交接。"),
    ("违约责任", "liability",
     "乙方未达到约定服务标准的，应当限期整改，并按照差额部分承担违约责任；业主逾期不缴纳物业服务费的，乙方可以催告其限期缴纳。"),
    ("争议解决", None,
     "本合同履行中发生争议的，双方协商解决；协商不成的，可以申请物业纠纷人民调解委员会调解，或者依法向人民法院提起诉讼。"),
]
DEFAULT_TEXTS = {
    "regular": ("物业服务合同（示范文本）", [
        ("物业基本情况", None, "物业名称：____；坐落位置：____；总建筑面积：____平方米；物业类型：住宅小区。"),
        *[(h, c, t) for h, c, t in _COMMON],
        ("合同期限", "term", "本合同期限为____年，自____年____月____日起至____年____月____日止。期满前三个月，双方应就续签事宜进行协商。"),
        *[(h, c, t) for h, c, t in _TAIL],
    ]),
    "preliminary": ("前期物业服务合同（示范文本）", [
        ("物业基本情况及招投标情况", None, "物业名称：____；坐落位置：____；乙方经招标投标确定为本物业的前期物业服务企业，中标通知书编号：____。"),
        *[(h.replace("甲方", "建设单位") if h.startswith("甲方") else h, c, t) for h, c, t in _COMMON],
        ("合同期限", "term", "本合同期限自____年____月____日起，至业主委员会代表全体业主与物业服务企业签订的物业服务合同生效时止。"),
        *[(h, c, t) for h, c, t in _TAIL],
    ]),
}


def ensure_default_templates() -> None:
    """Publish the first version of both model texts if none exists (idempotent)."""
    for kind, (title, clauses) in DEFAULT_TEXTS.items():
        if db.session.scalar(db.select(ContractTemplate.id).where(ContractTemplate.kind == kind).limit(1)):
            continue
        template = ContractTemplate(kind=kind, version=1, title=title, status="published", published_at=utcnow(),
                                    note="吉首市住房保障服务中心会同吉首市司法局、街道办事处制定（实施方案三(七)）。")
        for number, (heading, item, text) in enumerate(clauses, start=1):
            template.clauses.append(TemplateClause(number=number, heading=heading, text=text, checklist_item=item))
        db.session.add(template)
    db.session.commit()
