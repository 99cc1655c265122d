"""Excel export of list pages. Every list page offers what it shows (all pages, with the same
filters and the same scoping to the user) as an .xlsx file: the route builds its query as for
the page and, when ``?format=xlsx`` is asked, hands it to ``xlsx_response`` with its columns.
Each export is written to the audit log, since it takes data out of the system."""
import io
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import request, send_file
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from app.engine.calendar import SHANGHAI, now
from app.services import audit

Column = tuple[str, Callable[[Any], Any]]
MAX_ROWS = 100_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def wants_xlsx() -> bool:
    return request.args.get("format") == "xlsx"


def _cell(value):
    if value is None or isinstance(value, (int, Decimal, date, bool)) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):  # Excel has no time zones: local (Asia/Shanghai) time without one
        return (value.astimezone(SHANGHAI) if value.tzinfo else value).replace(tzinfo=None)
    return str(value)


def xlsx_response(name: str, title: str, columns: list[Column], items: Iterable) -> Any:
    """Send the items as one sheet: a bold header row of the column labels, then one row per
    item (at most MAX_ROWS), money as numbers with two decimals."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(str(title)[:31])
    header = []
    for label, _getter in columns:
        cell = WriteOnlyCell(ws, value=str(label))
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    count = 0
    for item in items:
        if count >= MAX_ROWS:
            break
        row = []
        for _label, getter in columns:
            value = _cell(getter(item))
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, Decimal):
                cell.number_format = "#,##0.00"
            elif isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            row.append(cell)
        ws.append(row)
        count += 1
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    audit.record("list.exported", target_type="list", target_id=None,
                 after={"list": name, "rows": count, "filters": {k: v for k, v in request.args.items() if k != "format"}})
    from app.extensions import db
    db.session.commit()
    stamp = now().astimezone(SHANGHAI).strftime("%Y%m%d")
    return send_file(buffer, as_attachment=True, download_name=f"{name}-{stamp}.xlsx", mimetype=XLSX)
