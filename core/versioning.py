"""Versions that refuse a stale save.

Every editable object carries a `version` that rises by one with each change. A
person (page) or client (API) sends back the version they read; the service reads
the row again under a row lock and, if its version has moved on, refuses the save
with StaleSave carrying the current row, so the person can see what the other
person saved and decide. Nothing is changed on a refusal.

Version 0 stands for "nothing saved yet" for objects made on first save (an agreed
score, a decision on an improvement, a site's own assumptions).
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils import timezone
from django.utils.formats import date_format


class StaleSave(ValidationError):
    """The object changed since the person read it. `current` is the object as it is
    now (None when it has since been removed); `version` is its version (0 if none)."""

    def __init__(self, message: str, *, current: Any, version: int) -> None:
        super().__init__(message, code="stale")
        self.current = current
        self.version = version


def last_change(obj: Model | None) -> tuple[Any, Any]:
    """Who made the newest recorded change to `obj`, and when (django-simple-history)."""
    history = getattr(obj, "history", None)
    record = history.order_by("-history_date", "-history_id").first() if history is not None else None
    if record is None:
        return None, None
    return record.history_user, record.history_date


def stale_message(*, thing: str, current: Model | None) -> str:
    """ "Alex Smith changed this service at 14:05 on 3 December 2026, after you opened
    the page." in the words every page and the API use."""
    if current is None:
        return f"Someone removed this {thing} after you opened it. Your changes were not saved."
    who, when = last_change(current)
    name = str(who) if who is not None else "Someone else"
    at = ""
    if when is not None:
        local = timezone.localtime(when)
        at = f" at {date_format(local, 'H:i')} on {date_format(local, 'j F Y')}"
    return (
        f"{name} changed this {thing}{at}, after you opened it. Your changes were not saved: "
        "check what they saved, then save again if you still want your changes."
    )


def check_version(*, expected: int | None, current: Model | None, thing: str) -> int:
    """Refuse the save unless `expected` is the current version. Call it with the
    row read under select_for_update. Returns the version the save must write.

    `expected` None skips the check: only for trusted internal callers (the demo
    loader, imports); pages and the API always send the version they read.
    """
    version = int(getattr(current, "version", 0) or 0) if current is not None else 0
    if expected is not None and expected != version:
        raise StaleSave(stale_message(thing=thing, current=current), current=current, version=version)
    return version + 1
