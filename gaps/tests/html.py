"""Reading a page as a person reads it: one part of it by its id, and the rows of a
table as the text of their cells."""

import re
from html import unescape
from html.parser import HTMLParser
from itertools import accumulate

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Part(HTMLParser):
    """Finds where the element with an id starts and where its end tag ends."""

    def __init__(self, page: str, element_id: str) -> None:
        super().__init__(convert_charrefs=False)
        self.element_id = element_id
        self.line_starts = [0, *accumulate(len(line) for line in page.splitlines(keepends=True))]
        self.tag: str | None = None
        self.depth = 0
        self.start = self.end = -1

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.end != -1 or tag in VOID:
            return
        if self.tag is None and dict(attrs).get("id") == self.element_id:
            self.tag, self.depth, self.start = tag, 1, self._offset()
        elif tag == self.tag:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == self.tag and self.end == -1:
            self.depth -= 1
            if self.depth == 0:
                self.end = self._offset() + len(f"</{tag}>")


def part(page: str, element_id: str) -> str:
    """The HTML of the element with this id, from its start tag to its end tag."""
    parser = _Part(page, element_id)
    parser.feed(page)
    parser.close()
    assert parser.start != -1, f"nothing has the id {element_id}"
    return page[parser.start : parser.end]


def text(fragment: str) -> str:
    """What a reader sees: the text without tags, spaces run together."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def table_rows(fragment: str) -> list[list[str]]:
    """The text of each cell of each row in the body of the first table in the fragment."""
    body = re.search(r"<tbody[^>]*>(.*?)</tbody>", fragment, re.S)
    assert body is not None, "no table body"
    return [
        [text(cell) for cell in re.findall(r"<t[hd]\b[^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr\b[^>]*>(.*?)</tr>", body.group(1), re.S)
    ]


def tables_rows(fragment: str, css_class: str) -> list[list[str]]:
    """The body rows of every table of this class in the fragment, in one list."""
    tables = re.findall(rf'<table class="[^"]*\b{css_class}\b[^"]*".*?</table>', fragment, re.S)
    return [row for table in tables for row in table_rows(table)]
