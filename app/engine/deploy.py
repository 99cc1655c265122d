"""Deploying process models: every deploy is a new version, refused with the linter's
problems when the model does not bind to the app. Deploying unchanged content is a no-op,
so `flask bpmn deploy` can run at every start."""
import hashlib
from pathlib import Path

from flask_babel import gettext as _

from app.engine import specs
from app.engine.linter import lint
from app.extensions import db
from app.models import ProcessModel, ProcessModelVersion
from app.models.base import utcnow
from app.services import audit
from app.services.errors import ValidationFailed

NS_DMN = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def checksum(bpmn_xml: str, dmn_files: dict[str, str]) -> str:
    h = hashlib.sha256(bpmn_xml.encode())
    for name in sorted(dmn_files):
        h.update(name.encode() + b"\0" + dmn_files[name].encode())
    return h.hexdigest()


def _process_name(bpmn_xml: str, process_id: str) -> str:
    root = specs.safe_xml(bpmn_xml)
    for p in root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}process"):
        if p.get("id") == process_id:
            return p.get("name") or process_id
    return process_id


def deploy(model_key: str, bpmn_xml: str, dmn_files: dict[str, str] | None = None, *, author=None,
           note: str = "") -> tuple[ProcessModelVersion, bool]:
    """(version, created): the deployed version for this content, new or existing."""
    dmn_files = dmn_files or {}
    problems = lint(bpmn_xml, dmn_files)
    if problems:
        raise ValidationFailed(_("流程模型未通过检查，未部署。"), {"bpmn": "\n".join(problems)})
    digest = checksum(bpmn_xml, dmn_files)
    process_id = specs.executable_process_ids(bpmn_xml)[0]
    model = db.session.scalar(db.select(ProcessModel).where(ProcessModel.key == model_key))
    if model is None:
        model = ProcessModel(key=model_key, name=_process_name(bpmn_xml, process_id))
        db.session.add(model)
        db.session.flush()
    latest = db.session.scalar(db.select(ProcessModelVersion).where(ProcessModelVersion.model_id == model.id)
                               .order_by(ProcessModelVersion.number.desc()).limit(1))
    if latest is not None and latest.checksum == digest and latest.status == "deployed":
        return latest, False
    spec, subs = specs.parse(bpmn_xml, dmn_files, process_id)
    version = ProcessModelVersion(
        model_id=model.id, number=(latest.number + 1) if latest else 1, process_id=process_id, bpmn_xml=bpmn_xml,
        dmn_files=dmn_files, checksum=digest, spec_json=specs.spec_to_json(spec, subs), status="deployed",
        note=note, author_id=getattr(author, "id", None), deployed_at=utcnow())
    model.name = _process_name(bpmn_xml, process_id)
    db.session.add(version)
    db.session.flush()
    audit.record("process.deploy", version, after={"model": model_key, "version": version.number, "note": note},
                 actor=author)
    db.session.commit()
    return version, True


def _decisions_defined(dmn_xml: str) -> set[str]:
    root = specs.safe_xml(dmn_xml)
    return {d.get("id") for d in root.iter(f"{{{NS_DMN}}}decision")}


def deploy_directory(directory: str | Path) -> list[tuple[str, int, bool]]:
    """Deploy every bpmn/*.bpmn with the DMN files whose decisions it calls."""
    directory = Path(directory)
    dmn_all = {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.dmn"))}
    results = []
    for path in sorted(directory.glob("*.bpmn")):
        xml = path.read_text(encoding="utf-8")
        dmn = {name: text for name, text in dmn_all.items()
               if any(f">{d}<" in xml or f'"{d}"' in xml for d in _decisions_defined(text))}
        version, created = deploy(path.stem, xml, dmn, note=f"bpmn/{path.name}")
        results.append((path.stem, version.number, created))
    return results
