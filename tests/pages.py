"""Helpers for page tests: read a form as the browser would submit it, so a test can
load a page, change some fields and post it back, as two people editing at once do."""

from html.parser import HTMLParser
from typing import Any


class _FormReader(HTMLParser):
    def __init__(self, action: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.action = action
        self.in_main = False
        self.inside = False
        self.done = False
        self.fields: dict[str, list[str]] = {}
        self._textarea: str | None = None
        self._select: str | None = None
        self._option: str | None = None
        self._selected_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "main":
            self.in_main = True
        wanted = a.get("action", "") == self.action if self.action is not None else self.in_main
        if tag == "form" and not self.done and wanted:
            self.inside = True
            return
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.setdefault(name, []).append(a.get("value", "on"))
            elif kind not in ("submit", "button", "file"):
                self.fields.setdefault(name, []).append(a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields.setdefault(name, []).append("")
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.fields.setdefault(self._select, []).append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside = False
            self.done = True
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            # The first newline after <textarea> is not part of the value.
            current = self.fields[self._textarea][-1]
            self.fields[self._textarea][-1] = current + (data[1:] if not current and data.startswith("\n") else data)


def form_data(html: str | bytes, *, action: str | None = None) -> dict[str, Any]:
    """The fields of the first form in the page's main content (or of the one posting to
    `action`) with the values the browser would send: single values as strings,
    repeated ones as lists."""
    reader = _FormReader(action)
    reader.feed(html.decode() if isinstance(html, bytes) else html)
    return {name: values[0] if len(values) == 1 else values for name, values in reader.fields.items()}
