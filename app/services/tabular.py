"""Uploaded tables (CSV in UTF-8 or GBK, or Excel .xlsx) read as rows of stripped strings,
keyed by the Chinese column names of the first row. Used by every import page."""
import csv
import io

from flask_babel import gettext as _

from app.services.errors import ValidationFailed


def _cells(filename: str, content: bytes) -> list[list[str]]:
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook
        try:
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).active
            return [["" if v is None else str(v).strip() for v in row] for row in sheet.iter_rows(values_only=True)]
        except Exception:
            raise ValidationFailed(_("无法读取该 Excel 文件。"), {"file": _("无法读取该 Excel 文件。")})
    if name.endswith(".csv"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = content.decode("gb18030")
            except UnicodeDecodeError:
                raise ValidationFailed(_("CSV 文件编码无法识别，请使用 UTF-8 或 GBK。"), {"file": _("编码无法识别。")})
        return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
    raise ValidationFailed(_("只接受 CSV 或 Excel（.xlsx）文件。"), {"file": _("只接受 CSV 或 Excel（.xlsx）文件。")})


def read_table(filename: str, content: bytes, columns: dict[str, str], required: tuple[str, ...]) -> list[dict]:
    """Rows as dicts keyed by `columns`' values (Chinese header → key). The first non-empty
    row is the header and must contain every `required` Chinese column name."""
    rows = [row for row in _cells(filename, content) if any(row)]
    if not rows:
        raise ValidationFailed(_("文件是空的。"), {"file": _("文件是空的。")})
    header = rows[0]
    missing = [name for name in required if name not in header]
    if missing:
        names = "、".join(f"“{name}”" for name in required)
        raise ValidationFailed(_("首行须为列名，至少包含%(names)s。", names=names),
                               {"file": _("首行须包含%(names)s。", names=names)})
    index = {columns[name]: i for i, name in enumerate(header) if name in columns}
    return [{key: (row[i] if i < len(row) else "") for key, i in index.items()} for row in rows[1:]]
