"""The browser modeler: process models, their versions and working drafts.

- A draft is a copy of a model's BPMN and DMN that process managers edit; saving it never
  touches running cases. Every save names the lock version it was loaded with: a save
  over someone else's newer save is refused (Conflict), never a silent overwrite.
- Validate runs the engine's deploy linter with the element each problem concerns.
- Deploy makes the draft a new version (with a change note, in the audit log); running
  instances stay on their version. Retire stops new instances on a version.
- Uploaded .bpmn/.dmn files are checked before anything is stored: size, UTF-8, no DTD
  (so no entity of any kind: external, billion laughs), well-formed, the right root.

Only process_manager and admin may use any of this (the pages check; `ensure_editor` here
checks again for callers outside the pages).
"""
import hashlib
import importlib
import inspect
import pkgutil
import re

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import undefer
from sqlalchemy.orm.exc import StaleDataError

from app.engine import bpmn_diff, registry, specs
from app.engine.deploy import deploy
from app.engine.linter import lint_elements
from app.engine.runtime import OPEN_STATUSES
from app.extensions import db
from app.models import ModelDraft, ProcessInstance, ProcessModel, ProcessModelVersion
from app.models.base import utcnow
from app.roles import ROLES_ZH, role_name
from app.services import audit
from app.services.errors import Conflict, Forbidden, NotFound, ServiceError, ValidationFailed

EDITOR_ROLES = ("process_manager", "admin")
NS_BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS_DMN = ("https://www.omg.org/spec/DMN/20191111/MODEL/", "http://www.omg.org/spec/DMN/20180521/MODEL/",
          "https://www.omg.org/spec/DMN/20230324/MODEL/")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{1,79}$")
DMN_NAME_RE = re.compile(r"^[A-Za-z0-9_\-\u4e00-\u9fff]{1,80}\.dmn$")
DEFAULT_MAX_BYTES = 2 * 1024 * 1024


def ensure_editor(user) -> None:
    if user is None or not user.has_role(*EDITOR_ROLES):
        raise Forbidden(_("只有流程管理员和系统管理员可以编辑或部署流程模型。"))


def max_bytes() -> int:
    return int(current_app.config.get("MODELER_MAX_BYTES", DEFAULT_MAX_BYTES))


# ---------------------------------------------------------------- what BPMN may name (pick lists)

def role_choices() -> list[dict]:
    """Lane names: the Chinese role names the engine maps to role codes."""
    return [{"code": code, "name": name, "label": role_name(code)} for code, name in ROLES_ZH.items()]


def form_choices() -> list[dict]:
    """Every WTForms class in forms/ a user task may name as its form key."""
    import forms
    from forms import BaseForm
    found = []
    for info in pkgutil.iter_modules(forms.__path__):
        module = importlib.import_module(f"forms.{info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseForm) and cls is not BaseForm and cls.__module__ == module.__name__:
                doc = (inspect.getdoc(cls) or "").split("\n")[0] if cls.__doc__ else ""
                found.append({"key": f"{info.name}.{name}", "label": doc})
    return sorted(found, key=lambda f: f["key"])


def operator_choices() -> list[dict]:
    return [{"name": op.name, "label": str(op.label), "external": op.external,
             "params": [{"name": p, "label": str(d)} for p, d in op.params.items()]}
            for op in sorted(registry.OPERATORS.values(), key=lambda o: o.name)]


def message_choices() -> list[dict]:
    return [{"name": name, "label": str(label)} for name, label in sorted(registry.MESSAGES.items())]


def vocabulary() -> dict:
    return {"roles": role_choices(), "forms": form_choices(), "operators": operator_choices(),
            "messages": message_choices()}


# ---------------------------------------------------------------- the model list

def overview() -> list[dict]:
    """Every model with its versions (status, deployer, note) and the running instances per version."""
    counts = dict(db.session.execute(
        db.select(ProcessInstance.version_id, db.func.count(ProcessInstance.id))
        .where(ProcessInstance.status.in_(OPEN_STATUSES)).group_by(ProcessInstance.version_id)).all())
    drafts = {d.model_id: d for d in db.session.scalars(db.select(ModelDraft))}
    rows = []
    for model in db.session.scalars(db.select(ProcessModel).order_by(ProcessModel.key)):
        versions = sorted(model.versions, key=lambda v: v.number, reverse=True)
        rows.append({"model": model, "draft": drafts.get(model.id),
                     "versions": [{"version": v, "running": counts.get(v.id, 0)} for v in versions],
                     "running": sum(counts.get(v.id, 0) for v in versions)})
    return rows


def get_model(key: str) -> ProcessModel:
    model = db.session.scalar(db.select(ProcessModel).where(ProcessModel.key == key))
    if model is None:
        raise NotFound(_("流程模型不存在。"))
    return model


def get_version(model: ProcessModel, number: int) -> ProcessModelVersion:
    version = db.session.scalar(db.select(ProcessModelVersion).options(undefer(ProcessModelVersion.bpmn_xml),
                                                                        undefer(ProcessModelVersion.dmn_files))
                                .where(ProcessModelVersion.model_id == model.id, ProcessModelVersion.number == number))
    if version is None:
        raise NotFound(_("该版本不存在。"))
    return version


def running_counts(model: ProcessModel) -> dict[int, int]:
    return dict(db.session.execute(
        db.select(ProcessInstance.version_id, db.func.count(ProcessInstance.id))
        .join(ProcessModelVersion, ProcessModelVersion.id == ProcessInstance.version_id)
        .where(ProcessModelVersion.model_id == model.id, ProcessInstance.status.in_(OPEN_STATUSES))
        .group_by(ProcessInstance.version_id)).all())


# ---------------------------------------------------------------- checking uploads and saves

def check_xml(content, kind: str = "bpmn", field: str = "file") -> str:
    """The text of an uploaded or saved .bpmn/.dmn, or ValidationFailed saying what is wrong.

    defusedxml refuses any DTD before a parser builds anything, so no entity (external or
    the 'billion laughs' kind) is ever expanded; lxml (entities and network off, no huge
    trees) then checks the structure."""
    label = "BPMN" if kind == "bpmn" else "DMN"
    if isinstance(content, str):
        data = content.encode("utf-8")
    else:
        data = bytes(content or b"")
    if not data.strip():
        raise ValidationFailed(_("文件为空。"), {field: _("文件为空。")})
    if len(data) > max_bytes():
        message = _("文件过大（%(size)s KB），上限为 %(limit)s KB。", size=len(data) // 1024, limit=max_bytes() // 1024)
        raise ValidationFailed(message, {field: message})
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        message = _("文件不是 UTF-8 编码的 %(kind)s 文件。", kind=label)
        raise ValidationFailed(message, {field: message})
    if "\x00" in text:
        message = _("文件含有不允许的控制字符。")
        raise ValidationFailed(message, {field: message})
    try:
        defused_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        message = _("文件含有 DOCTYPE 或实体声明，出于安全原因不予接受。")
        raise ValidationFailed(message, {field: message})
    except Exception as e:
        message = _("文件不是有效的 XML：%(error)s", error=str(e)[:200])
        raise ValidationFailed(message, {field: message})
    try:
        root = specs.safe_xml(data)
    except Exception as e:
        message = _("文件不是有效的 XML：%(error)s", error=str(e)[:200])
        raise ValidationFailed(message, {field: message})
    expected = (NS_BPMN,) if kind == "bpmn" else NS_DMN
    if root.tag not in {f"{{{ns}}}definitions" for ns in expected}:
        message = _("文件不是 %(kind)s 模型（根元素应为 %(kind)s 的 definitions）。", kind=label)
        raise ValidationFailed(message, {field: message})
    if kind == "bpmn" and not root.findall(f"{{{NS_BPMN}}}process"):
        message = _("BPMN 文件中没有流程（process）。")
        raise ValidationFailed(message, {field: message})
    return text


def _checksum(bpmn_xml: str, dmn_files: dict) -> str:
    h = hashlib.sha256(bpmn_xml.encode())
    for name in sorted(dmn_files):
        h.update(name.encode() + b"\0" + dmn_files[name].encode())
    return h.hexdigest()


# ---------------------------------------------------------------- drafts

BLANK = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
                  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
                  xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="{key}_defs" targetNamespace="http://wuye.example/bpmn">
  <bpmn:collaboration id="{key}_collab">
    <bpmn:participant id="{key}_pool" name="{name}" processRef="{key}" />
  </bpmn:collaboration>
  <bpmn:process id="{key}" name="{name}" isExecutable="true">
    <bpmn:laneSet id="{key}_lanes">
      <bpmn:lane id="{key}_lane_center" name="住保中心">
        <bpmn:flowNodeRef>{key}_start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>{key}_end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="{key}_start" name="开始"><bpmn:outgoing>{key}_flow</bpmn:outgoing></bpmn:startEvent>
    <bpmn:endEvent id="{key}_end" name="结束"><bpmn:incoming>{key}_flow</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="{key}_flow" sourceRef="{key}_start" targetRef="{key}_end" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="{key}_diagram">
    <bpmndi:BPMNPlane id="{key}_plane" bpmnElement="{key}_collab">
      <bpmndi:BPMNShape id="{key}_pool_di" bpmnElement="{key}_pool" isHorizontal="true">
        <dc:Bounds x="100" y="60" width="700" height="200" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="{key}_lane_center_di" bpmnElement="{key}_lane_center" isHorizontal="true">
        <dc:Bounds x="130" y="60" width="670" height="200" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="{key}_start_di" bpmnElement="{key}_start">
        <dc:Bounds x="182" y="142" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="{key}_end_di" bpmnElement="{key}_end">
        <dc:Bounds x="682" y="142" width="36" height="36" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="{key}_flow_di" bpmnElement="{key}_flow">
        <di:waypoint x="218" y="160" /><di:waypoint x="682" y="160" /></bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""


def _latest_any(model: ProcessModel) -> ProcessModelVersion | None:
    return db.session.scalar(db.select(ProcessModelVersion).options(undefer(ProcessModelVersion.bpmn_xml),
                                                                     undefer(ProcessModelVersion.dmn_files))
                             .where(ProcessModelVersion.model_id == model.id)
                             .order_by(ProcessModelVersion.number.desc()).limit(1))


def draft_of(model: ProcessModel) -> ModelDraft | None:
    return db.session.scalar(db.select(ModelDraft).options(undefer(ModelDraft.bpmn_xml), undefer(ModelDraft.dmn_files))
                             .where(ModelDraft.model_id == model.id))


def open_draft(key: str, actor) -> ModelDraft:
    """The model's working draft; the first opening copies the newest version."""
    ensure_editor(actor)
    model = get_model(key)
    draft = draft_of(model)
    if draft is not None:
        return draft
    latest = _latest_any(model)
    if latest is None:
        raise NotFound(_("该流程模型还没有任何版本。"))
    draft = ModelDraft(model_id=model.id, bpmn_xml=latest.bpmn_xml, dmn_files=dict(latest.dmn_files or {}),
                       base_version_id=latest.id, updated_by_id=actor.id)
    db.session.add(draft)
    try:
        db.session.commit()
    except Exception:  # two first openings at once: the other one made it
        db.session.rollback()
        draft = draft_of(model)
        if draft is None:
            raise
    return draft


def create_model(key: str, name: str, actor) -> ModelDraft:
    """A new model with a blank draft (one pool, one lane, start and end)."""
    ensure_editor(actor)
    key = (key or "").strip()
    name = (name or "").strip()
    if not KEY_RE.match(key):
        raise ValidationFailed(_("请检查输入。"), {"key": _("标识须以小写字母开头，只含小写字母、数字和下划线（2–80 个字符）。")})
    if not name or len(name) > 200:
        raise ValidationFailed(_("请检查输入。"), {"name": _("请填写流程名称（200 字以内）。")})
    if db.session.scalar(db.select(ProcessModel.id).where(ProcessModel.key == key)) is not None:
        raise ValidationFailed(_("请检查输入。"), {"key": _("已有同一标识的流程模型。")})
    from markupsafe import escape
    model = ProcessModel(key=key, name=name)
    db.session.add(model)
    db.session.flush()
    draft = ModelDraft(model_id=model.id, bpmn_xml=BLANK.format(key=key, name=escape(name)), dmn_files={},
                       updated_by_id=actor.id)
    db.session.add(draft)
    audit.record("process.model_create", model, after={"key": key, "name": name}, actor=actor)
    db.session.commit()
    return draft


def _conflict(draft: ModelDraft) -> Conflict:
    who = draft.updated_by.display_name if draft.updated_by else _("他人")
    from app.i18n import local_time
    return Conflict(_("该草稿已被 %(name)s 于 %(time)s 保存，您的修改未保存（不会覆盖他人的修改）。请重新打开草稿后再修改。",
                      name=who, time=local_time(draft.updated_at)))


def save_draft(key: str, actor, lock_version: int, *, bpmn_xml: str | None = None,
               dmn_files: dict[str, str] | None = None, removed_dmn: list[str] | None = None) -> ModelDraft:
    """Save the editor's content over the draft it loaded (lock_version), or Conflict."""
    ensure_editor(actor)
    model = get_model(key)
    draft = draft_of(model)
    if draft is None:
        draft = open_draft(key, actor)
    if bpmn_xml is not None:
        bpmn_xml = check_xml(bpmn_xml, "bpmn", "bpmn")
    new_dmn = dict(draft.dmn_files or {})
    for name, xml in (dmn_files or {}).items():
        if not DMN_NAME_RE.match(name or ""):
            raise ValidationFailed(_("DMN 文件名无效。"), {"dmn": _("DMN 文件名只能含字母、数字、汉字、下划线和连字符，并以 .dmn 结尾。")})
        new_dmn[name] = check_xml(xml, "dmn", "dmn")
    for name in removed_dmn or []:
        new_dmn.pop(name, None)
    if int(lock_version or 0) != draft.lock_version:
        raise _conflict(draft)
    if bpmn_xml is not None:
        draft.bpmn_xml = bpmn_xml
    draft.dmn_files = new_dmn
    draft.updated_by_id = actor.id
    draft.updated_at = utcnow()
    try:
        db.session.commit()  # the version column refuses a concurrent save of the same lock version
    except StaleDataError:
        db.session.rollback()
        raise _conflict(draft_of(model))
    return draft


def discard_draft(key: str, actor) -> None:
    ensure_editor(actor)
    model = get_model(key)
    draft = draft_of(model)
    if draft is not None:
        db.session.delete(draft)
        audit.record("process.draft_discard", model, actor=actor)
        db.session.commit()


def validate_draft(key: str, actor) -> list[dict]:
    ensure_editor(actor)
    draft = open_draft(key, actor)
    return [{"element_id": p.element_id, "message": p.message}
            for p in lint_elements(draft.bpmn_xml, draft.dmn_files or {})]


def deploy_draft(key: str, actor, note: str, lock_version: int) -> tuple[ProcessModelVersion, bool]:
    """Deploy the draft as it was loaded (lock_version) as the model's new version."""
    ensure_editor(actor)
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(_("请填写变更说明。"), {"note": _("请填写变更说明。")})
    if len(note) > 500:
        raise ValidationFailed(_("变更说明不能超过 500 字。"), {"note": _("变更说明不能超过 500 字。")})
    model = get_model(key)
    draft = open_draft(key, actor)
    if int(lock_version or 0) != draft.lock_version:
        raise _conflict(draft)
    process_ids = specs.executable_process_ids(draft.bpmn_xml)
    if process_ids and model.versions and process_ids[0] != model.versions[-1].process_id:
        raise ValidationFailed(_("流程模型未通过检查，未部署。"), {"bpmn": _(
            "可执行流程的标识（%(new)s）与已部署版本（%(old)s）不同；请保留原标识。", new=process_ids[0],
            old=model.versions[-1].process_id)})
    version, created = deploy(key, draft.bpmn_xml, dict(draft.dmn_files or {}), author=actor, note=note)
    draft = draft_of(model)
    draft.base_version_id = version.id
    db.session.commit()
    return version, created


def retire_version(key: str, number: int, actor) -> ProcessModelVersion:
    """No new instances on this version; running ones go on."""
    ensure_editor(actor)
    version = get_version(get_model(key), number)
    if version.status != "deployed":
        raise Conflict(_("只有已部署的版本可以停用。"))
    version.status = "retired"
    audit.record("process.retire", version, before={"status": "deployed"},
                 after={"model": key, "version": number, "status": "retired"}, actor=actor)
    db.session.commit()
    return version


def reactivate_version(key: str, number: int, actor) -> ProcessModelVersion:
    ensure_editor(actor)
    version = get_version(get_model(key), number)
    if version.status != "retired":
        raise Conflict(_("只有已停用的版本可以恢复。"))
    version.status = "deployed"
    audit.record("process.reactivate", version, before={"status": "retired"},
                 after={"model": key, "version": number, "status": "deployed"}, actor=actor)
    db.session.commit()
    return version


# ---------------------------------------------------------------- import and export

def import_file(key: str, filename: str, content: bytes, actor, lock_version: int | None = None) -> ModelDraft:
    """An uploaded .bpmn replaces the draft's diagram; a .dmn adds or replaces that decision file."""
    ensure_editor(actor)
    filename = (filename or "").strip().replace("\\", "/").rsplit("/", 1)[-1]
    lower = filename.lower()
    if not (lower.endswith(".bpmn") or lower.endswith(".dmn")):
        raise ValidationFailed(_("只能导入 .bpmn 或 .dmn 文件。"), {"file": _("只能导入 .bpmn 或 .dmn 文件。")})
    kind = "bpmn" if lower.endswith(".bpmn") else "dmn"
    text = check_xml(content, kind)
    draft = open_draft(key, actor)
    lock = draft.lock_version if lock_version is None else lock_version
    if kind == "bpmn":
        draft = save_draft(key, actor, lock, bpmn_xml=text)
    else:
        draft = save_draft(key, actor, lock, dmn_files={filename: text})
    audit.record("process.import", draft.model, after={"file": filename, "kind": kind}, actor=actor)
    db.session.commit()
    return draft


def export_source(key: str, number: int | None = None, dmn_name: str | None = None) -> tuple[str, str]:
    """(filename, text) of a version's (or, without number, the draft's) BPMN or one DMN file."""
    model = get_model(key)
    if number is None:
        source = draft_of(model) or _latest_any(model)
        if source is None:
            raise NotFound(_("该流程模型还没有任何版本。"))
        suffix = "draft"
    else:
        source = get_version(model, number)
        suffix = f"v{number}"
    if dmn_name:
        if dmn_name not in (source.dmn_files or {}):
            raise NotFound(_("该 DMN 文件不存在。"))
        return dmn_name, source.dmn_files[dmn_name]
    return f"{key}-{suffix}.bpmn", source.bpmn_xml


# ---------------------------------------------------------------- differences

def version_diff(key: str, old_number: int, new_number: int | None) -> dict:
    """What changed from version old_number to new_number (None: to the draft)."""
    model = get_model(key)
    old = get_version(model, old_number)
    if new_number is None:
        new = draft_of(model)
        if new is None:
            raise NotFound(_("该流程模型没有草稿。"))
    else:
        new = get_version(model, new_number)
    result = bpmn_diff.diff(old.bpmn_xml, new.bpmn_xml)
    old_dmn, new_dmn = old.dmn_files or {}, new.dmn_files or {}
    result["dmn"] = {"added": sorted(set(new_dmn) - set(old_dmn)), "removed": sorted(set(old_dmn) - set(new_dmn)),
                     "changed": sorted(n for n in set(old_dmn) & set(new_dmn) if old_dmn[n] != new_dmn[n])}
    result["old_xml"], result["new_xml"] = old.bpmn_xml, new.bpmn_xml
    return result


def draft_changes(key: str) -> dict | None:
    """What the draft changes against the newest version (None for a model never deployed)."""
    model = get_model(key)
    latest = _latest_any(model)
    if latest is None:
        return None
    return version_diff(key, latest.number, None)


def draft_state(draft: ModelDraft, with_sources: bool = True) -> dict:
    """The editor's view of a draft: content, lock version and who saved it last."""
    from app.i18n import local_time
    state = {"lock_version": draft.lock_version, "updated_at": draft.updated_at.isoformat(),
             "updated_at_local": local_time(draft.updated_at),
             "updated_by": draft.updated_by.display_name if draft.updated_by else "",
             "base_version": draft.base_version.number if draft.base_version else None,
             "dmn_names": sorted(draft.dmn_files or {})}
    if with_sources:
        state["xml"] = draft.bpmn_xml
        state["dmn"] = dict(draft.dmn_files or {})
    return state


BLANK_DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/"
             xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/" id="{id}_defs" name="{name}" namespace="http://wuye.example/dmn">
  <decision id="{id}" name="{name}">
    <decisionTable id="{id}_table" hitPolicy="FIRST">
      <input id="{id}_in" label="得分">
        <inputExpression id="{id}_in_expr" typeRef="number"><text>score</text></inputExpression>
      </input>
      <output id="{id}_out" label="结果" name="result" typeRef="string" />
      <rule id="{id}_rule_1">
        <inputEntry id="{id}_rule_1_in"><text>&gt;= 90</text></inputEntry>
        <outputEntry id="{id}_rule_1_out"><text>"A"</text></outputEntry>
      </rule>
      <rule id="{id}_rule_2">
        <inputEntry id="{id}_rule_2_in"><text>-</text></inputEntry>
        <outputEntry id="{id}_rule_2_out"><text>"B"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
  <dmndi:DMNDI>
    <dmndi:DMNDiagram id="{id}_diagram">
      <dmndi:DMNShape id="{id}_di" dmnElementRef="{id}"><dc:Bounds height="80" width="180" x="160" y="100" /></dmndi:DMNShape>
    </dmndi:DMNDiagram>
  </dmndi:DMNDI>
</definitions>
"""


def create_decision(key: str, filename: str, decision_id: str, name: str, actor) -> ModelDraft:
    """A new decision table (DMN) in the draft, to edit with dmn-js."""
    from markupsafe import escape
    ensure_editor(actor)
    draft = open_draft(key, actor)
    if filename in (draft.dmn_files or {}):
        raise ValidationFailed(_("请检查输入。"), {"filename": _("草稿中已有同名的决策表文件。")})
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]{0,79}$", decision_id or ""):
        raise ValidationFailed(_("请检查输入。"), {"decision_id": _("决策标识须以字母或下划线开头，只含字母、数字和下划线。")})
    xml = BLANK_DMN.format(id=decision_id, name=escape((name or decision_id).strip()))
    return save_draft(key, actor, draft.lock_version, dmn_files={filename: xml})


# ---------------------------------------------------------------- migration of running instances

def _newest_deployed(model: ProcessModel) -> ProcessModelVersion | None:
    return db.session.scalar(db.select(ProcessModelVersion).where(
        ProcessModelVersion.model_id == model.id, ProcessModelVersion.status == "deployed")
        .order_by(ProcessModelVersion.number.desc()).limit(1))


def migration_preview(key: str, number: int, actor) -> tuple[ProcessModelVersion, ProcessModelVersion, list[dict]]:
    """(source, target, rows): each running instance of version `number`, whether it can
    move to the newest deployed version, and why not."""
    from app.engine import migration
    ensure_editor(actor)
    model = get_model(key)
    source = get_version(model, number)
    target = _newest_deployed(model)
    if target is None or target.number <= source.number:
        raise Conflict(_("没有比第 %(n)d 版更新的已部署版本可以迁移到。", n=number))
    return source, target, migration.preview(source, target)


def migrate_instances(key: str, number: int, instance_ids: list[int], actor) -> tuple[list[int], list[tuple[int, str]]]:
    """Move the chosen instances of version `number` to the newest deployed version.
    (moved ids, [(refused id, reason)]); each move is its own transaction."""
    from app.engine import migration
    source, target, _rows = migration_preview(key, number, actor)
    moved, refused = [], []
    for instance_id in instance_ids:
        instance = db.session.get(ProcessInstance, instance_id)
        if instance is None or instance.version_id != source.id:
            refused.append((instance_id, _("该案件不属于第 %(n)d 版。", n=number)))
            continue
        try:
            migration.migrate(instance_id, target, actor)
        except ServiceError as e:
            refused.append((instance_id, e.message))
        else:
            moved.append(instance_id)
    if moved:
        audit.record("process.migrate", target, after={"model": key, "from": number, "to": target.number,
                                                       "instances": moved}, actor=actor)
        db.session.commit()
    return moved, refused


# ---------------------------------------------------------------- sandbox test runs

def start_trial(key: str, actor, data: dict):
    """A throw-away run of the draft with sample data (see app/engine/trial.py)."""
    from app.engine import trial
    from app.models import ModelTrial
    ensure_editor(actor)
    draft = open_draft(key, actor)
    try:
        state, log, status = trial.start(draft.bpmn_xml, dict(draft.dmn_files or {}), data or {})
    except trial.TrialError as e:
        raise ValidationFailed(_("试运行失败：%(error)s", error=e), {"data": str(e)})
    except Exception as e:
        raise ValidationFailed(_("草稿无法运行，请先检查：%(error)s", error=str(e)[:300]), {"data": str(e)[:300]})
    row = ModelTrial(model_id=draft.model_id, user_id=actor.id, checksum=_checksum(draft.bpmn_xml, draft.dmn_files or {}),
                     state=state, log=_stamp(log), status=status)
    db.session.add(row)
    db.session.commit()
    return row


def _stamp(entries: list) -> list:
    from app.i18n import local_time
    at = local_time(utcnow(), "%H:%M:%S")
    return [{**e, "at": e.get("at") or at} for e in entries]


def get_trial(key: str, trial_id: int, actor):
    from app.models import ModelTrial
    ensure_editor(actor)
    model = get_model(key)
    row = db.session.get(ModelTrial, trial_id)
    if row is None or row.model_id != model.id:
        raise NotFound(_("试运行不存在。"))
    return row


def trial_view(row) -> dict:
    from app.engine import trial
    return trial.view(row.state)


def trial_step(key: str, trial_id: int, actor, action: str, target: str, data: dict):
    from app.engine import trial
    row = get_trial(key, trial_id, actor)
    if row.status != "running":
        raise Conflict(_("该试运行已结束。"))
    log = list(row.log or [])
    before = len(log)
    try:
        state, status = trial.step(row.state, action, target, data or {}, log)
    except trial.TrialError as e:
        raise Conflict(_("无法执行该步骤（%(error)s），请刷新页面。", error=e))
    row.state = state
    row.status = status
    row.log = log[:before] + _stamp(log[before:])
    db.session.commit()
    return row
