"""Who made a change and how, for django-simple-history.

Every service that writes a record with history calls `stamp` first, so the history
row says who changed it and whether through a page, the API or an import; a record
written by queryset.update() keeps no history, so services save instances instead.
"""

from typing import Any, Literal

Source = Literal["page", "api", "import", "demo", "system"]
SOURCE_LABELS: dict[str, str] = {
    "page": "a page",
    "api": "the API",
    "import": "an import",
    "demo": "the demo loader",
    "system": "THRIVE Mapper",
}


def stamp(instance: Any, *, user: Any, source: Source) -> None:
    instance._history_user = user
    instance._change_reason = source
