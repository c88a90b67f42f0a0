"""Writes for the THRIVE Assessment Tool: loading instrument versions, running
rounds, and recording ratings and agreed scores.

Rules hold whatever the entry point (page or API): only draft rounds change, a
round is submitted only when every item has an agreed score, values stay within
core.limits, and a save based on a value someone else has since changed is refused
(core.versioning: the version the person read, checked under a row lock). Every
write records who made it and whether through a page or the API (core.history).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import User
from core.history import Source, stamp
from core.limits import EVIDENCE, NOTES, PARTICIPANT, ROUND_DATE, measure_limit
from core.versioning import StaleSave, check_version, last_change, stale_message
from sites.models import Site

from .instrument_file import instrument_file_error, instrument_file_problems
from .models import AgreedScore, EvidenceType, Instrument, Item, Part, Principle, Rating, Round, RoundStatus

MISSING_LIST_LIMIT = 10


class RoundNotEditable(ValidationError):
    pass


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
#
# Every write below reads the round row under a lock, checks the version the person
# read (core.versioning), stamps who and how (core.history) and saves the instance, so
# the round's history keeps each change with its author, never a queryset.update().


def _refuse_out_of_limits(errors: Mapping[str, list[str]]) -> None:
    """Raise the limits (core.limits) broken by the values, keyed by field."""
    broken = {field: messages for field, messages in errors.items() if messages}
    if broken:
        raise ValidationError(broken)


def who_and_when(user: User | None, when: datetime | None) -> tuple[str, str]:
    """("Sam Jones", " at 14:05 on 3 December 2026") for a change's author and time."""
    name = str(user) if user is not None else "Someone else"
    if when is None:
        return name, ""
    local = timezone.localtime(when)
    return name, f" at {date_format(local, 'H:i')} on {date_format(local, 'j F Y')}"


def round_create(
    *,
    site: Site,
    user: User | None,
    source: Source,
    held_on: date,
    instrument: Instrument | None = None,
    notes: str = "",
) -> Round:
    """Start the site's next round: the baseline first, then follow-up 1, 2..."""
    notes = notes.strip()
    _refuse_out_of_limits({"held_on": ROUND_DATE.errors(held_on), "notes": NOTES.errors(notes)})
    instrument = instrument or instrument_current()
    if instrument is None:
        raise ValidationError({"instrument": "No version of the THRIVE Assessment Tool is loaded yet."})
    with transaction.atomic():
        # Lock the site row so two people starting a round at once get consecutive numbers.
        Site.objects.select_for_update().filter(pk=site.pk).first()
        if Round.objects.filter(site=site, status=RoundStatus.DRAFT).exists():
            raise ValidationError({"held_on": "Finish the round in progress first: submit it before starting another."})
        last = Round.objects.filter(site=site).aggregate(last=Max("sequence"))["last"]
        round_ = Round(
            site=site,
            instrument=instrument,
            sequence=0 if last is None else last + 1,
            held_on=held_on,
            notes=notes,
            created_by=user,
        )
        stamp(round_, user=user, source=source)
        round_.save()
    return round_


def _require_editable(round_: Round) -> None:
    if round_.status == RoundStatus.LOCKED:
        raise RoundNotEditable("This round is locked. Its scores can no longer change.", code="locked")
    if round_.status != RoundStatus.DRAFT:
        raise RoundNotEditable(
            "This round has been submitted. Reopen it as a draft to change its scores.", code="submitted"
        )


def _locked_round(round_: Round) -> Round:
    return Round.objects.select_for_update().get(pk=round_.pk)


def _check_score(instrument: Instrument, score: int | None, *, field: str = "score") -> None:
    if score is not None and not instrument.scale_min <= score <= instrument.scale_max:
        raise ValidationError({field: f"Choose a score from {instrument.scale_min} to {instrument.scale_max}."})


def _check_item(round_: Round, item: Item) -> None:
    if item.instrument_id != round_.instrument_id:
        raise ValidationError({"item": "That item is not part of the version this round is scored on."})


ROUND_FIELDS = ("held_on", "notes")


def round_update(
    *, round_: Round, user: User | None, source: Source, held_on: date, notes: str, expected_version: int | None
) -> Round:
    """Change a draft round's date and notes. Checked on the locked row: a round
    submitted a moment ago by someone else is refused (RoundNotEditable), and so is a
    change based on a version someone else has since changed (StaleSave)."""
    notes = notes.strip()
    _refuse_out_of_limits({"held_on": ROUND_DATE.errors(held_on), "notes": NOTES.errors(notes)})
    with transaction.atomic():
        current = _locked_round(round_)
        _require_editable(current)
        current.version = check_version(expected=expected_version, current=current, thing="round")
        current.held_on = held_on
        current.notes = notes
        stamp(current, user=user, source=source)
        current.save()
    return current


def _transition_version(current: Round, expected: int | None, *, done: str, do: str) -> int:
    """The version a change of the round's state writes; refused (StaleSave) if the
    round changed since the person read it, in words about what they asked for."""
    try:
        return check_version(expected=expected, current=current, thing="round")
    except StaleSave as stale:
        who, at = who_and_when(*last_change(current))
        raise StaleSave(
            f"{who} changed this round{at}, after you opened the page, so it was not {done}. "
            f"Check the round as it is now, then {do} it if you still want to.",
            current=current,
            version=stale.version,
        ) from None


def round_missing_items(*, round_: Round) -> list[Item]:
    scored = AgreedScore.objects.filter(round=round_, score__isnull=False).values("item_id")
    return list(
        Item.objects.filter(instrument_id=round_.instrument_id)
        .exclude(pk__in=scored)
        .select_related("part", "principle")
        .order_by("order")
    )


def round_submit(*, round_: Round, user: User | None, source: Source, expected_version: int | None) -> Round:
    """Submit a draft round; every item needs an agreed score first."""
    with transaction.atomic():
        current = _locked_round(round_)
        _require_editable(current)
        version = _transition_version(current, expected_version, done="submitted", do="submit")
        missing = round_missing_items(round_=current)
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
        current.status = RoundStatus.SUBMITTED
        current.submitted_at = timezone.now()
        current.submitted_by = user
        current.version = version
        stamp(current, user=user, source=source)
        current.save()
    return current


def round_reopen(*, round_: Round, user: User | None, source: Source, expected_version: int | None) -> Round:
    """Return a submitted round to draft to correct it. Locked rounds stay locked; a
    draft stays as it is."""
    with transaction.atomic():
        current = _locked_round(round_)
        if current.status == RoundStatus.LOCKED:
            raise RoundNotEditable("This round is locked. It cannot be reopened.", code="locked")
        if current.status == RoundStatus.SUBMITTED:
            current.version = _transition_version(current, expected_version, done="reopened", do="reopen")
            current.status = RoundStatus.DRAFT
            current.submitted_at = None
            current.submitted_by = None
            stamp(current, user=user, source=source)
            current.save()
    return current


def round_lock(*, round_: Round, user: User | None, source: Source, expected_version: int | None) -> Round:
    """Lock a submitted round for good: it becomes the record others compare against.
    A locked round stays as it is."""
    with transaction.atomic():
        current = _locked_round(round_)
        if current.status == RoundStatus.DRAFT:
            raise ValidationError({"__all__": "Submit the round before locking it."}, code="draft")
        if current.status == RoundStatus.SUBMITTED:
            current.version = _transition_version(current, expected_version, done="locked", do="lock")
            current.status = RoundStatus.LOCKED
            current.locked_at = timezone.now()
            current.locked_by = user
            stamp(current, user=user, source=source)
            current.save()
    return current


# Agreed scores ---------------------------------------------------------------------


@dataclass(frozen=True)
class AgreedScoreInput:
    score: int | None
    evidence_value: Decimal | None = None
    evidence_text: str = ""
    notes: str = ""


AGREED_SCORE_FIELDS = ("score", "evidence_value", "evidence_text", "notes")
NOTHING_SAVED_YET = (
    "Nothing has been saved for this item yet, so the version you sent is not one it has had. "
    "Your change was not saved: reload the item and try again."
)


def agreed_score_save(
    *,
    round_: Round,
    item: Item,
    user: User | None,
    source: Source,
    data: AgreedScoreInput,
    expected_version: int | None,
) -> AgreedScore:
    """Save the agreed score of one item.

    `expected_version` is the version the person saw (0 for an item never saved). If
    someone has saved the item since, StaleSave is raised with the newer row and
    nothing changes. None skips the check (trusted internal callers only).
    """
    _check_item(round_, item)
    _check_score(round_.instrument, data.score)
    if data.evidence_value is not None and item.evidence_type != EvidenceType.QUANTITATIVE:
        raise ValidationError({"evidence_value": "This item's evidence is a description, not a figure."})
    evidence_text, notes = data.evidence_text.strip(), data.notes.strip()
    _refuse_out_of_limits(
        {
            "evidence_value": measure_limit(item.evidence_unit).errors(data.evidence_value),
            "evidence_text": EVIDENCE.errors(evidence_text),
            "notes": NOTES.errors(notes),
        }
    )
    with transaction.atomic():
        # The round's lock also settles two first saves of the same item at once.
        _require_editable(_locked_round(round_))
        current = AgreedScore.objects.select_for_update().filter(round=round_, item=item).first()
        if current is None and expected_version not in (None, 0):
            # A version for a row that does not exist: a forged or corrupted request.
            raise StaleSave(NOTHING_SAVED_YET, current=None, version=0)
        version = check_version(expected=expected_version, current=current, thing="agreed score")
        if current is None:
            current = AgreedScore(round=round_, item=item)
        current.score = data.score
        current.evidence_value = data.evidence_value
        current.evidence_text = evidence_text
        current.notes = notes
        current.version = version
        current.updated_by = user
        stamp(current, user=user, source=source)
        current.save()
    return current


# Ratings ---------------------------------------------------------------------------


class RatingExists(ValidationError):
    """The participant has already rated the item: `current` is their rating."""

    def __init__(self, message: str, *, current: Rating) -> None:
        super().__init__(message, code="exists")
        self.current = current


def _rating_text(participant: str, notes: str) -> tuple[str, str]:
    participant, notes = participant.strip(), notes.strip()
    if not participant:
        raise ValidationError({"participant": "Enter the name or role of the person giving this rating."})
    _refuse_out_of_limits({"participant": PARTICIPANT.errors(participant), "notes": NOTES.errors(notes)})
    return participant, notes


def _rating_of(round_: Round, item: Item, participant: str) -> Rating | None:
    """The participant's rating of the item, names compared ignoring case, locked."""
    return Rating.objects.select_for_update().filter(round=round_, item=item, participant__iexact=participant).first()


def _rating_write(rating: Rating, *, user: User | None, source: Source, score: int, notes: str, version: int) -> Rating:
    rating.score = score
    rating.notes = notes
    rating.version = version
    rating.recorded_by = user
    stamp(rating, user=user, source=source)
    rating.save()
    return rating


def _rating_stale(current: Rating, *, added: bool, refused: str) -> StaleSave:
    who, at = who_and_when(*last_change(current))
    did = (
        f"recorded a rating of {current.score} for {current.participant}"
        if added
        else f"changed {current.participant}'s rating to {current.score}"
    )
    return StaleSave(f"{who} {did}{at}, after you opened the page. {refused}", current=current, version=current.version)


def rating_save(
    *,
    round_: Round,
    item: Item,
    user: User | None,
    source: Source,
    participant: str,
    score: int,
    notes: str = "",
    seen: Mapping[UUID, int] | None,
) -> Rating:
    """Record a participant's rating of an item, or change theirs if they have one
    (names compared ignoring case): on the scoring page a name already listed changes
    that rating.

    `seen` maps each rating of the item the person saw (by public id) to its version.
    A rating of this participant added or changed since is refused (StaleSave) and
    nothing changes. None skips the check (trusted internal callers only).
    """
    participant, notes = _rating_text(participant, notes)
    _check_item(round_, item)
    _check_score(round_.instrument, score)
    with transaction.atomic():
        _require_editable(_locked_round(round_))
        current = _rating_of(round_, item, participant)
        if current is None:
            return _rating_write(
                Rating(round=round_, item=item, participant=participant),
                user=user,
                source=source,
                score=score,
                notes=notes,
                version=1,
            )
        if seen is not None and seen.get(current.public_id) != current.version:
            raise _rating_stale(
                current,
                added=current.public_id not in seen,
                refused="Your rating was not saved: check theirs, then save again if you still want to change it.",
            )
        return _rating_write(current, user=user, source=source, score=score, notes=notes, version=current.version + 1)


def rating_create(
    *, round_: Round, item: Item, user: User | None, source: Source, participant: str, score: int, notes: str = ""
) -> Rating:
    """Record a new participant's rating of an item. A participant who has already
    rated it (names compared ignoring case) is refused with RatingExists: their rating
    is changed with rating_update, from the version read."""
    participant, notes = _rating_text(participant, notes)
    _check_item(round_, item)
    _check_score(round_.instrument, score)
    with transaction.atomic():
        # The round's lock settles two creates for one participant at once: one wins.
        _require_editable(_locked_round(round_))
        current = _rating_of(round_, item, participant)
        if current is not None:
            raise RatingExists(f"{current.participant} has already rated this item.", current=current)
        return _rating_write(
            Rating(round=round_, item=item, participant=participant),
            user=user,
            source=source,
            score=score,
            notes=notes,
            version=1,
        )


def rating_update(
    *, rating: Rating, user: User | None, source: Source, score: int, notes: str, expected_version: int | None
) -> Rating:
    """Change one rating's score and notes; refused (StaleSave) if it changed since
    `expected_version`."""
    notes = notes.strip()
    _refuse_out_of_limits({"notes": NOTES.errors(notes)})
    round_ = rating.round
    _check_score(round_.instrument, score)
    with transaction.atomic():
        _require_editable(_locked_round(round_))
        current = Rating.objects.select_for_update().filter(pk=rating.pk).first()
        if current is None:
            raise StaleSave(stale_message(thing="rating", current=None), current=None, version=0)
        version = check_version(expected=expected_version, current=current, thing="rating")
        return _rating_write(current, user=user, source=source, score=score, notes=notes, version=version)


def rating_delete(*, rating: Rating, user: User | None, source: Source, expected_version: int | None) -> None:
    """Remove one rating; refused (StaleSave) if it changed since `expected_version`.
    Its history keeps the removal, with who removed it."""
    with transaction.atomic():
        _require_editable(_locked_round(rating.round))
        current = Rating.objects.select_for_update().filter(pk=rating.pk).first()
        if current is None:
            if expected_version is None:
                return
            raise StaleSave(stale_message(thing="rating", current=None), current=None, version=0)
        if expected_version is not None and expected_version != current.version:
            raise _rating_stale(
                current,
                added=False,
                refused="It was not removed: check their rating, then remove it again if you still want to.",
            )
        stamp(current, user=user, source=source)
        current.delete()


__all__ = [
    "AGREED_SCORE_FIELDS",
    "ROUND_FIELDS",
    "AgreedScoreInput",
    "RatingExists",
    "RoundNotEditable",
    "StaleSave",
    "agreed_score_save",
    "instrument_current",
    "instrument_load",
    "rating_create",
    "rating_delete",
    "rating_save",
    "rating_update",
    "round_create",
    "round_lock",
    "round_missing_items",
    "round_reopen",
    "round_submit",
    "round_update",
    "who_and_when",
]
