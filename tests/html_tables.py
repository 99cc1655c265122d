"""Read what a user sees in a page's tables: the rows of the table marked data-testid."""
from html.parser import HTMLParser


class _Tables(HTMLParser):
    def __init__(self, testid: str):
        super().__init__()
        self.testid, self.depth, self.rows, self.cell = testid, 0, [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and (self.depth or dict(attrs).get("data-testid") == self.testid):
            self.depth += 1
        elif self.depth and tag == "tr":
            self.rows.append([])
        elif self.depth and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table" and self.depth:
            self.depth -= 1
        elif self.depth and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def table_rows(html: str, testid: str) -> list[list[str]]:
    """Every row of the table as a list of cell texts (whitespace collapsed)."""
    parser = _Tables(testid)
    parser.feed(html)
    return parser.rows


def table_dict(html: str, testid: str) -> dict[str, str]:
    """A two-column table (label, value) as a dict."""
    return {row[0]: row[1] for row in table_rows(html, testid) if len(row) >= 2}
