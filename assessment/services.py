"""Writes for the THRIVE Assessment Tool: loading instrument versions, running
rounds, and recording ratings and agreed scores.

Rules hold whatever the entry point (page or API): only draft rounds change, a
round is submitted only when every item has an agreed score, and a save based on a
value someone else has since changed is refused (optimistic locking on `version`).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from sites.models import Site

from .instrument_file import instrument_file_error, instrument_file_problems
from .models import AgreedScore, EvidenceType, Instrument, Item, Part, Principle, Rating, Round, RoundStatus

MISSING_LIST_LIMIT = 10


class RoundNotEditable(ValidationError):
    pass


class StaleSave(ValidationError):
    """Raised when the row changed since the page was loaded; carries the newer row."""

    def __init__(self, message: str, *, current: Any) -> None:
        super().__init__(message, code="stale")
        self.current = current


# Instruments ---------------------------------------------------------------------


def instrument_load(*, data: Mapping[str, Any], user: User | None = None) -> Instrument:
    """Create an instrument version from its file's data, all or nothing.

    The whole file is checked before anything is written (see assessment/instrument_file.py);
    every problem is raised at once, keyed by the section of the file it is in.
    Existing versions are never changed: rounds keep the wording they were scored on.
    """
    problems = instrument_file_problems(data)
    version = data.get("version")
    version_is_sound = isinstance(version, str) and not any(path[:1] == ("version",) for path, _ in problems)
    if version_is_sound and Instrument.objects.filter(version=version).exists():
        problems = [(("version",), _version_taken_message(str(version))), *problems]
    if problems:
        raise instrument_file_error(problems)
    scale = data["scale"]
    try:
        with transaction.atomic():
            instrument = Instrument.objects.create(
                version=data["version"],
                name=data["name"],
                is_draft=bool(data.get("is_draft", False)),
                note=data.get("note", ""),
                scale_min=scale["min"],
                scale_max=scale["max"],
                threshold=scale["threshold"],
                scale_labels=dict(scale.get("labels", {})),
                loaded_by=user,
            )
            parts = {
                p["code"]: Part.objects.create(
                    instrument=instrument,
                    code=p["code"],
                    label=p["label"],
                    short_label=p.get("short_label", p["label"]),
                    description=p.get("description", ""),
                    order=order,
                )
                for order, p in enumerate(data["parts"], start=1)
            }
            principles = {
                p["code"]: Principle.objects.create(
                    instrument=instrument,
                    code=p["code"],
                    label=p["label"],
                    description=p.get("description", ""),
                    order=order,
                )
                for order, p in enumerate(data["principles"], start=1)
            }
            part_order = {code: i for i, code in enumerate(parts)}
            principle_order = {code: i for i, code in enumerate(principles)}
            items = sorted(data["items"], key=lambda i: (part_order[i["part"]], principle_order[i["principle"]]))
            Item.objects.bulk_create(
                Item(
                    instrument=instrument,
                    part=parts[i["part"]],
                    principle=principles[i["principle"]],
                    code=i.get("code") or f"{i['part']}-{i['principle']}",
                    description=i["description"],
                    descriptors=dict(i["descriptors"]),
                    evidence_type=i["evidence"]["type"],
                    evidence_unit=i["evidence"].get("unit", ""),
                    evidence_prompt=i["evidence"].get("prompt", ""),
                    order=order,
                )
                for order, i in enumerate(items, start=1)
            )
    except IntegrityError as error:
        # Two people loading the same new version at once: the second meets the
        # unique constraint on version, and nothing of theirs is kept.
        raise instrument_file_error([(("version",), _version_taken_message(data["version"]))]) from error
    return instrument


def _version_taken_message(version: str) -> str:
    return f"Version {version} is already loaded. Give the new wording a new version."


def instrument_current() -> Instrument | None:
    """The version new rounds use: the newest loaded."""
    return Instrument.objects.order_by("-loaded_at", "-pk").first()


# Rounds ----------------------------------------------------------------------------


def round_create(
    *, site: Site, user: User | None, held_on: date, instrument: Instrument | None = None, notes: str = ""
) -> Round:
    """Start the site's next round: the baseline first, then follow-up 1, 2..."""
    instrument = instrument or instrument_current()
    if instrument is None:
        raise ValidationError({"instrument": "No version of the THRIVE Assessment Tool is loaded yet."})
    with transaction.atomic():
        # Lock the site row so two people starting a round at once get consecutive numbers.
        Site.objects.select_for_update().filter(pk=site.pk).first()
        if Round.objects.filter(site=site, status=RoundStatus.DRAFT).exists():
            raise ValidationError({"held_on": "Finish the round in progress first: submit it before starting another."})
        last = Round.objects.filter(site=site).aggregate(last=Max("sequence"))["last"]
        return Round.objects.create(
            site=site,
            instrument=instrument,
            sequence=0 if last is None else last + 1,
            held_on=held_on,
            notes=notes,
            created_by=user,
        )


def _require_editable(round_: Round) -> None:
    if round_.status == RoundStatus.LOCKED:
        raise RoundNotEditable("This round is locked. Its scores can no longer change.", code="locked")
    if round_.status != RoundStatus.DRAFT:
        raise RoundNotEditable(
            "This round has been submitted. Reopen it as a draft to change its scores.", code="submitted"
        )


def _check_score(instrument: Instrument, score: int | None, *, field: str = "score") -> None:
    if score is not None and not instrument.scale_min <= score <= instrument.scale_max:
        raise ValidationError({field: f"Choose a score from {instrument.scale_min} to {instrument.scale_max}."})


def _check_item(round_: Round, item: Item) -> None:
    if item.instrument_id != round_.instrument_id:
        raise ValidationError({"item": "That item is not part of the version this round is scored on."})


@dataclass(frozen=True)
class AgreedScoreInput:
    score: int | None
    evidence_value: Decimal | None = None
    evidence_text: str = ""
    notes: str = ""


def agreed_score_save(
    *, round_: Round, item: Item, user: User | None, data: AgreedScoreInput, expected_version: int | None
) -> AgreedScore:
    """Save the agreed score of one item.

    `expected_version` is the version the person saw (0 for an item never saved). If
    someone has saved the item since, StaleSave is raised with the newer row and
    nothing changes. None skips the check (a client that always sends the latest).
    """
    _check_item(round_, item)
    _check_score(round_.instrument, data.score)
    if data.evidence_value is not None and item.evidence_type != EvidenceType.QUANTITATIVE:
        raise ValidationError({"evidence_value": "This item's evidence is a description, not a figure."})
    with transaction.atomic():
        locked_round = Round.objects.select_for_update().get(pk=round_.pk)
        _require_editable(locked_round)
        current = AgreedScore.objects.select_for_update().filter(round=round_, item=item).first()
        current_version = current.version if current else 0
        if expected_version is not None and expected_version != current_version:
            if current is None:
                # A version for a row that does not exist: a forged or corrupted request.
                raise ValidationError({"version": "Nothing has been saved here yet: reload and try again."})
            who = current.updated_by or "someone else"
            shown = current.score if current.score is not None else "not yet scored"
            raise StaleSave(
                f"{who} changed this item after you opened the page: the agreed score is now {shown}. "
                "Your change was not saved. Review their value, then save again if you still want yours.",
                current=current,
            )
        if current is None:
            current = AgreedScore(round=round_, item=item)
        current.score = data.score
        current.evidence_value = data.evidence_value
        current.evidence_text = data.evidence_text.strip()
        current.notes = data.notes.strip()
        current.version = current_version + 1
        current.updated_by = user
        current._history_user = user  # type: ignore[attr-defined]
        current.save()
    return current


def rating_save(
    *,
    round_: Round,
    item: Item,
    user: User | None,
    participant: str,
    score: int,
    notes: str = "",
    expected_version: int | None = None,
) -> Rating:
    """Record or change one participant's own rating of an item."""
    participant = participant.strip()
    if not participant:
        raise ValidationError({"participant": "Enter the name or role of the person giving this rating."})
    _check_item(round_, item)
    _check_score(round_.instrument, score)
    with transaction.atomic():
        locked_round = Round.objects.select_for_update().get(pk=round_.pk)
        _require_editable(locked_round)
        current = (
            Rating.objects.select_for_update().filter(round=round_, item=item, participant__iexact=participant).first()
        )
        current_version = current.version if current else 0
        if expected_version is not None and expected_version != current_version:
            if current is None:
                # A version for a row that does not exist: a forged or corrupted request.
                raise ValidationError({"version": "Nothing has been saved here yet: reload and try again."})
            raise StaleSave(
                f"{current.participant}'s rating was changed to {current.score} after you opened the page. "
                "Your change was not saved.",
                current=current,
            )
        if current is None:
            current = Rating(round=round_, item=item, participant=participant)
        current.score = score
        current.notes = notes.strip()
        current.version = current_version + 1
        current.recorded_by = user
        current.save()
    return current


def rating_delete(*, round_: Round, rating: Rating) -> None:
    with transaction.atomic():
        _require_editable(Round.objects.select_for_update().get(pk=round_.pk))
        rating.delete()


def round_missing_items(*, round_: Round) -> list[Item]:
    scored = AgreedScore.objects.filter(round=round_, score__isnull=False).values("item_id")
    return list(
        Item.objects.filter(instrument_id=round_.instrument_id)
        .exclude(pk__in=scored)
        .select_related("part", "principle")
        .order_by("order")
    )


def round_submit(*, round_: Round, user: User | None) -> Round:
    """Submit a draft round; every item needs an agreed score first."""
    with transaction.atomic():
        locked_round = Round.objects.select_for_update().get(pk=round_.pk)
        _require_editable(locked_round)
        missing = round_missing_items(round_=locked_round)
        if missing:
            names = [f"{item.principle.label} ({item.part.short_label})" for item in missing[:MISSING_LIST_LIMIT]]
            more = len(missing) - len(names)
            listed = "; ".join(names) + (f"; and {more} more" if more else "")
            raise ValidationError(
                {
                    "__all__": (
                        f"Every item needs an agreed score before the round is submitted. "
                        f"{len(missing)} not yet scored: {listed}."
                    )
                },
                code="incomplete",
            )
        Round.objects.filter(pk=locked_round.pk).update(
            status=RoundStatus.SUBMITTED, submitted_at=timezone.now(), submitted_by=user
        )
    round_.refresh_from_db()
    return round_


def round_reopen(*, round_: Round, user: User | None) -> Round:
    """Return a submitted round to draft to correct it. Locked rounds stay locked."""
    with transaction.atomic():
        locked_round = Round.objects.select_for_update().get(pk=round_.pk)
        if locked_round.status == RoundStatus.LOCKED:
            raise RoundNotEditable("This round is locked. It cannot be reopened.", code="locked")
        if locked_round.status == RoundStatus.SUBMITTED:
            Round.objects.filter(pk=locked_round.pk).update(
                status=RoundStatus.DRAFT, submitted_at=None, submitted_by=None
            )
    round_.refresh_from_db()
    return round_


def round_lock(*, round_: Round, user: User | None) -> Round:
    """Lock a submitted round for good: it becomes the record others compare against."""
    with transaction.atomic():
        locked_round = Round.objects.select_for_update().get(pk=round_.pk)
        if locked_round.status == RoundStatus.DRAFT:
            raise ValidationError({"__all__": "Submit the round before locking it."}, code="draft")
        Round.objects.filter(pk=locked_round.pk, status=RoundStatus.SUBMITTED).update(
            status=RoundStatus.LOCKED, locked_at=timezone.now(), locked_by=user
        )
    round_.refresh_from_db()
    return round_


def round_update(*, round_: Round, user: User | None, held_on: date, notes: str) -> Round:
    """Change a draft round's date and notes. The status is checked on the locked row,
    so a round submitted a moment ago by someone else is refused, not changed."""
    with transaction.atomic():
        locked_round = Round.objects.select_for_update().get(pk=round_.pk)
        _require_editable(locked_round)
        Round.objects.filter(pk=round_.pk).update(held_on=held_on, notes=notes.strip())
    round_.refresh_from_db()
    return round_


__all__ = [
    "AgreedScoreInput",
    "RoundNotEditable",
    "StaleSave",
    "agreed_score_save",
    "instrument_current",
    "instrument_load",
    "rating_delete",
    "rating_save",
    "round_create",
    "round_lock",
    "round_missing_items",
    "round_reopen",
    "round_submit",
    "round_update",
]
