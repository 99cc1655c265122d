"""Documents attached to cases: size and type checked, stored outside the database under
random names (the uploader's file name is kept for display only, never used as a path)."""
import hashlib
import os
import uuid

from flask import current_app
from flask_babel import gettext as _

from app.extensions import db
from app.models import Attachment
from app.services.errors import ValidationFailed

MAX_BYTES = 10 * 1024 * 1024
# extension -> (content type, leading bytes the file must start with)
ALLOWED = {
    "pdf": ("application/pdf", (b"%PDF",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
}


def display_name(filename: str) -> str:
    """Keep the name readable (Chinese included) but free of paths and control characters."""
    name = os.path.basename((filename or "").replace("\\", "/"))
    name = "".join(c for c in name if c.isprintable() and c not in '<>:"|?*')
    return name[:200] or "file"


# Scanned documents (licences, contracts, evidence): PDF or an image, never an office file.
SCAN_KINDS = ("pdf", "jpg", "jpeg", "png")


def _kinds_message(kinds) -> str:
    if kinds is None:
        return _("只接受 PDF、JPG、PNG、DOCX、XLSX 文件。")
    names = "、".join(dict.fromkeys(k.replace("jpeg", "jpg").upper() for k in kinds))
    return _("只接受 %(kinds)s 文件。", kinds=names)


def _read(file) -> tuple[str, str, bytes]:
    name = display_name(file.filename)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return name, ext, file.read(MAX_BYTES + 1)


def _problem(ext: str, data: bytes, kinds) -> str | None:
    if len(data) > MAX_BYTES:
        return _("附件不能超过 10 MB。")
    if not data:
        return _("附件是空文件。")
    allowed = ALLOWED if kinds is None else {k: v for k, v in ALLOWED.items() if k in kinds}
    if ext not in allowed or not data.startswith(allowed[ext][1]):
        return _kinds_message(kinds)
    return None


def problem(file, kinds=None) -> str | None:
    """What is wrong with an upload (size, emptiness, type by name and by its first bytes),
    or None; the stream is left where it was, so a form may check before anything is stored."""
    position = file.stream.tell()
    try:
        _name, ext, data = _read(file)
    finally:
        file.stream.seek(position)
    return _problem(ext, data, kinds)


def store(file, *, field: str, user, instance_id=None, task_id=None, kinds=None) -> Attachment:
    name, ext, data = _read(file)
    if message := _problem(ext, data, kinds):
        raise ValidationFailed(message, {field: message})
    stored_name = f"{uuid.uuid4().hex}.{ext}"
    folder = current_app.config["UPLOAD_FOLDER"]
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, stored_name), "wb") as out:
        out.write(data)
    row = Attachment(instance_id=instance_id, task_id=task_id, field=field, filename=name, stored_name=stored_name,
                     content_type=ALLOWED[ext][0], size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                     uploaded_by_id=user.id)
    db.session.add(row)
    db.session.flush()
    return row


def discard(stored: list[tuple[int, str]]) -> None:
    """Undo store() for a use case that failed after storing (given as (id, stored name)
    pairs taken at once): the files go, and so do their rows where a commit kept them (the
    engine commits a timer's step before it refuses a task the timer closed)."""
    if not stored:
        return
    folder = current_app.config["UPLOAD_FOLDER"]
    for _id, stored_name in stored:
        try:
            os.remove(os.path.join(folder, stored_name))
        except FileNotFoundError:
            pass
    db.session.rollback()
    db.session.execute(db.delete(Attachment).where(Attachment.id.in_([i for i, _name in stored])))
    db.session.commit()


def store_upload(filename: str, data: bytes, *, field: str, user) -> Attachment:
    """Keep an uploaded table (CSV or Excel, already read by an import page) for the worker
    that imports it; the content was not checked yet, so it is stored as plain bytes."""
    name = display_name(filename)
    stored_name = f"{uuid.uuid4().hex}.upload"
    folder = current_app.config["UPLOAD_FOLDER"]
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, stored_name), "wb") as out:
        out.write(data)
    row = Attachment(field=field, filename=name, stored_name=stored_name, content_type="application/octet-stream",
                     size=len(data), sha256=hashlib.sha256(data).hexdigest(), uploaded_by_id=user.id)
    db.session.add(row)
    db.session.flush()
    return row


def path_of(row: Attachment) -> str:
    return os.path.join(current_app.config["UPLOAD_FOLDER"], row.stored_name)
