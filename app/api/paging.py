"""Pages of API lists: ?page= (from 1) and ?per_page= (default 50, at most MAX_PER_PAGE);
anything else is a 422 at that parameter, so a client never gets every row at once."""
from flask import request
from flask_babel import gettext as _

from app.api.openapi import query_param
from app.extensions import db
from app.services.errors import ValidationFailed

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100
PAGING = [query_param("page", "page number, from 1", {"type": "integer", "minimum": 1}),
          query_param("per_page", f"items per page (default {DEFAULT_PER_PAGE}, at most {MAX_PER_PAGE})",
                      {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE})]


def _positive(name: str, default: int, maximum: int | None = None) -> int:
    value = request.args.get(name, "")
    if not value:
        return default
    if not value.isdigit() or not 0 < int(value) <= (maximum or 2**31 - 1):
        raise ValidationFailed(_("查询条件有误。"), {name: _("须为 1 到 %(max)d 之间的整数。", max=maximum)
                                                     if maximum else _("须为正整数。")})
    return int(value)


def page_args() -> tuple[int, int]:
    return _positive("page", 1), _positive("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)


def _envelope(items: list, total: int, page: int, per_page: int) -> dict:
    return {"items": items, "total": total, "page": page, "per_page": per_page, "pages": -(-total // per_page)}


def paged(query, to_json=None, *, to_items=None) -> dict:
    """One page of an ordered select with the total: each row through `to_json`, or the
    page's rows all at once through `to_items`."""
    page, per_page = page_args()
    result = db.paginate(query, page=page, per_page=per_page, error_out=False)
    items = to_items(result.items) if to_items else [to_json(row) for row in result.items]
    return _envelope(items, result.total, page, per_page)


def paged_list(rows: list, to_json) -> dict:
    """The same for a list computed in full (a community's arrears)."""
    page, per_page = page_args()
    start = (page - 1) * per_page
    return _envelope([to_json(row) for row in rows[start:start + per_page]], len(rows), page, per_page)
