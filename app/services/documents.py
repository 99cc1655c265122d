"""Official documents: rendered from templates (app/templates/documents/) to PDF with
WeasyPrint and the Noto CJK font, stored like attachments with their SHA-256, and listed
on their case."""
import hashlib
import os
import uuid
from decimal import Decimal

import cn2an
from flask import current_app, render_template

from app.engine.calendar import SHANGHAI, now
from app.extensions import db
from app.models import Attachment


def rmb_upper(amount: Decimal) -> str:
    """130000.00 → 壹拾叁万元整 (the capital form Chinese payment forms require)."""
    return cn2an.an2cn(f"{Decimal(amount):.2f}", "rmb")


def render_pdf(template: str, **context) -> bytes:
    from weasyprint import HTML
    today = now().astimezone(SHANGHAI).date()  # a document is dated in the city's time, not the server's
    html = render_template(template, today=today, rmb_upper=rmb_upper, **context)
    return HTML(string=html, base_url=current_app.root_path).write_pdf()


def generate(template: str, title: str, *, kind: str, instance_id: int | None = None, actor=None,
             **context) -> Attachment:
    """Render, store and record one document; the caller's transaction commits it."""
    data = render_pdf(template, **context)
    stored_name = f"{uuid.uuid4().hex}.pdf"
    folder = current_app.config["UPLOAD_FOLDER"]
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, stored_name), "wb") as out:
        out.write(data)
    row = Attachment(instance_id=instance_id, field=kind, filename=f"{title}.pdf", stored_name=stored_name,
                     content_type="application/pdf", size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                     uploaded_by_id=getattr(actor, "id", None))
    db.session.add(row)
    db.session.flush()
    return row
