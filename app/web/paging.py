"""Pages of lists computed in full (the rankings): Flask-SQLAlchemy's own Pagination over a
Python list, so templates page them with the same `pagination` macro as query lists."""
from flask import request
from flask_sqlalchemy.pagination import Pagination


class ListPagination(Pagination):
    def _query_items(self) -> list:
        rows = self._query_args["rows"]
        return rows[self._query_offset:self._query_offset + self.per_page]

    def _query_count(self) -> int:
        return len(self._query_args["rows"])


def paginate_list(rows, per_page: int, arg: str = "page") -> ListPagination:
    """One page of `rows`, the page number read from the query argument `arg` (a page out of
    range or not a number shows the first or an empty page, never an error)."""
    return ListPagination(page=max(request.args.get(arg, 1, type=int) or 1, 1), per_page=per_page,
                          error_out=False, rows=list(rows))
