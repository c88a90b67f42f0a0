"""What activity tests share: reading a page as people see it, and writing history the
way the apps' services do (stamped with who and how, then saved)."""

import datetime
import re
from html import unescape
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import User
from assessment.management.commands.load_instrument import load_default_instrument
from assessment.models import Instrument, Item, Round
from core.history import Source, stamp
from sites.models import Site

HIDDEN = re.compile(r'<span class="govuk-visually-hidden">.*?</span>', re.S)


def visible_text(html: str | bytes) -> str:
    """The page's text as a sighted reader sees it: no tags, no visually hidden
    words, one space between words."""
    text = html.decode() if isinstance(html, bytes) else html
    text = HIDDEN.sub("", text)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", unescape(text)).replace(" :", ":").strip()


def today_in_words() -> str:
    return date_format(timezone.localdate(), "j F Y")


def made_today(page: str, *, by: str, through: str) -> bool:
    """Whether the page lists a change made today, at some time, by this person
    through this door: under today's heading, "2:05pm · by Sam Jones · through the API"."""
    heading = date_format(timezone.localdate(), "l j F Y")
    return bool(re.search(rf"{heading} .*\d{{1,2}}:\d{{2}}[ap]m · by {re.escape(by)} · through {through}", page))


def saved(instance: Any, user: User | None, source: Source = "page", *, minutes_later: int = 0) -> Any:
    """Save as a service does: stamped with who and how. `minutes_later` dates the
    history row after the ones before it, as a change made later would be (changes
    by one person through one door within moments read as one save)."""
    stamp(instance, user=user, source=source)
    if minutes_later:
        instance._history_date = timezone.now() + datetime.timedelta(minutes=minutes_later)
    instance.save()
    instance.__dict__.pop("_history_date", None)
    return instance


def deleted(instance: Any, user: User | None, source: Source = "page", *, minutes_later: int = 0) -> None:
    stamp(instance, user=user, source=source)
    if minutes_later:
        instance._history_date = timezone.now() + datetime.timedelta(minutes=minutes_later)
    instance.delete()


def instrument() -> Instrument:
    return Instrument.objects.first() or load_default_instrument()


def started_round(site: Site, user: User | None, *, sequence: int = 0) -> Round:
    return saved(
        Round(site=site, instrument=instrument(), sequence=sequence, held_on=datetime.date(2026, 3, 12)),
        user,
    )


def item(round_: Round, code: str) -> Item:
    return Item.objects.select_related("part", "principle").get(instrument=round_.instrument, code=code)
