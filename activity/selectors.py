"""Reads of a site's history: the activity feed and each record's History page.

Every change to a site-owned record leaves a row in that model's historical table
(django-simple-history), stamped with who made it and through which door
(core.history). A page of entries is found in the database: a UNION of the site's
rows of every historical table, ordered by date and sliced, gives the page's
(date, kind, id) triples; only those rows, the rows just before them and the names
they mention are then read, a fixed number of queries per kind of record, however
many entries the page holds.

One save can write several rows (a service, then its delivery settings, routes and
areas; the five age bands of the population): a row that follows, within moments,
the row just before it in its group, by the same person through the same door, is
read as part of that row's entry. This is decided in SQL, so counts and pages agree
with what is shown.
"""

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property, reduce
from operator import or_
from typing import Any, overload
from uuid import UUID

from django.db.models import CharField, F, Min, Model, OuterRef, Q, QuerySet, Subquery, Value, Window
from django.db.models.functions import Coalesce, Lag
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst
from simple_history.utils import get_m2m_reverse_field_name

from accounts.models import User
from assessment.models import Round
from gaps.models import ImprovementDecision
from mapping.models import Organisation, Service
from sites.models import Site

from .kinds import BOOKKEEPING, KIND_BY_KEY, KINDS, Action, Kind, improvement_titles, round_label

PER_PAGE = 25
# Rows one save writes land within milliseconds; two seconds leaves room for a slow
# request without merging two saves a person made on purpose.
SAME_SAVE = timedelta(seconds=2)
HOW = {
    "page": "the website",
    "api": "the API",
    "import": "an import",
    "demo": "the demo loader",
    "system": "THRIVE Mapper",
}
GONE = "a record no longer kept"
# The side of a change that did not exist: before a record was created, after it
# was deleted (unlike None, a value a field can hold).
ABSENT = object()


@dataclass(frozen=True)
class Change:
    field: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class Entry:
    when: datetime
    who: str | None
    source: str
    how: str
    kind: str
    action: Action
    headline: str
    subject: str
    url: str | None
    changes: tuple[Change, ...]
    # The first change recorded for a record made before history was kept: what it
    # was before is unknown, so the entry shows how the record then stood.
    earlier_unrecorded: bool

    @property
    def day(self) -> date:
        return timezone.localdate(self.when)

    @property
    def time_text(self) -> str:
        return time_text(self.when)


class ActivityList:
    """A site's history entries, newest first, read a slice at a time: a Django or
    DRF paginator counts it and slices it like a queryset, and only the slice's rows
    are read and described."""

    def __init__(self, site: Site, scope: dict[str, Q], person: User | None = None) -> None:
        self.site = site
        self.scope = scope
        self.person = person

    @cached_property
    def _index(self) -> QuerySet[Any] | None:
        return _index(self.scope, self.person) if self.scope else None

    def count(self) -> int:
        return self._index.count() if self._index is not None else 0

    def __len__(self) -> int:
        return self.count()

    @overload
    def __getitem__(self, window: int) -> Entry: ...

    @overload
    def __getitem__(self, window: slice) -> list[Entry]: ...

    def __getitem__(self, window: int | slice) -> Entry | list[Entry]:
        if isinstance(window, int):
            return self[window : window + 1][0]
        if self._index is None:
            return []
        rows: list[tuple[datetime, str, int]] = list(self._index[window])
        return _entries(self.site, rows)

    def __iter__(self) -> Iterator[Entry]:
        start = 0
        while entries := self[start : start + PER_PAGE]:
            yield from entries
            start += PER_PAGE


@dataclass(frozen=True)
class RecordHistory:
    """A record's History page: its name, its own page if it still exists, and its
    changes (with those of the records that belong to it)."""

    title: str
    noun: str
    url: str | None
    main_kind: str
    activity: ActivityList
    # Some of its changes were made before history was kept; recorded ones start here.
    unrecorded: bool
    recorded_since: datetime | None


def time_text(moment: datetime) -> str:
    """The time as GOV.UK writes it: 9:05am, 2:30pm."""
    local = timezone.localtime(moment)
    return f"{local.hour % 12 or 12}:{local.minute:02d}{'am' if local.hour < 12 else 'pm'}"


def when_text(moment: datetime) -> str:
    return f"{date_format(timezone.localtime(moment), 'j F Y')} at {time_text(moment)}"


# Which rows make the index ------------------------------------------------------------


def _same_save(kind: Kind, row: Any, before: Any) -> bool:
    """Whether `row` was written by the same save as `before`, the row just before it
    in its group: the Python twin of the test `_kept` makes in SQL."""
    return (
        row.history_type in kind.fold_types
        and (before.history_user_id or 0) == (row.history_user_id or 0)
        and (before.history_change_reason or "") == (row.history_change_reason or "")
        and timedelta(0) <= row.history_date - before.history_date <= SAME_SAVE
    )


def _kept(kind: Kind, where: Q) -> QuerySet[Any]:
    """The kind's rows matching `where` that start an entry: not a row written by the
    same save as the row just before it in its group. `where` must take whole groups
    (a record, a site), so "just before" is never a row it left out.

    The row before is read with window functions (LAG over each group in id order):
    one pass over the rows, however many there are."""

    def just_before(expression: Any, first: Any) -> Window:
        return Window(
            Lag(expression, default=first), partition_by=[F(kind.group_field)], order_by=F("history_id").asc()
        )

    who = Coalesce("history_user_id", Value(0))
    how = Coalesce("history_change_reason", Value(""))
    rows = (
        kind.history()
        ._default_manager.filter(where)
        .annotate(
            _who=who,
            _how=how,
            # A group's first row has nobody before it, not even "nobody" (0).
            _who_before=just_before(who, Value(-1)),
            _how_before=just_before(how, Value("")),
            _date_before=just_before(F("history_date"), None),
        )
    )
    return rows.exclude(
        Q(history_type__in=kind.fold_types)
        & Q(_who_before=F("_who"))
        & Q(_how_before=F("_how"))
        & Q(_date_before__gte=F("history_date") - SAME_SAVE)
        & Q(_date_before__lte=F("history_date"))
    )


def _index(scope: dict[str, Q], person: User | None) -> QuerySet[Any]:
    parts = []
    for key, where in scope.items():
        kind = KIND_BY_KEY[key]
        rows = _kept(kind, where)
        if person is not None:
            # After the window: whether a row starts an entry depends on the rows of
            # everyone before it, not only this person's.
            rows = kind.history()._default_manager.filter(history_id__in=rows.values("history_id"), history_user=person)
        parts.append(
            rows.annotate(record_kind=Value(key, output_field=CharField()))
            .values_list("history_date", "record_kind", "history_id")
            .order_by()
        )
    first, *rest = parts
    return (first.union(*rest, all=True) if rest else first).order_by("-history_date", "-history_id")


# From rows to entries -----------------------------------------------------------------


def _entries(site: Site, rows: Sequence[tuple[datetime, str, int]]) -> list[Entry]:
    wanted: dict[str, list[int]] = defaultdict(list)
    for _, key, history_id in rows:
        wanted[key].append(history_id)
    built: dict[tuple[str, int], Entry] = {}
    for key, ids in wanted.items():
        for history_id, entry in _kind_entries(site, KIND_BY_KEY[key], ids).items():
            built[(key, history_id)] = entry
    return [built[(key, history_id)] for _, key, history_id in rows if (key, history_id) in built]


# How far past the last row of a save to look for more of its rows in one read.
LOOK_AHEAD = timedelta(minutes=1)


def _saves(kind: Kind, heads: Sequence[Any]) -> list[list[Any]]:
    """The rows each head's save wrote: the head, then each row after it in its group
    written by the same save as the row before it. Read a minute of rows at a time
    (a save takes milliseconds), so a page costs one query however many saves it shows."""
    manager = kind.history()._default_manager
    group = kind.group_field
    saves = [[head] for head in heads]
    unfinished = list(saves)
    while unfinished:
        ahead = reduce(
            or_,
            (
                Q(
                    **{group: getattr(rows[-1], group)},
                    history_id__gt=rows[-1].history_id,
                    history_date__range=(rows[-1].history_date, rows[-1].history_date + LOOK_AHEAD),
                )
                for rows in unfinished
            ),
        )
        later = list(manager.filter(ahead).select_related("history_user").order_by("history_id"))
        still = []
        for rows in unfinished:
            start = rows[-1]
            following = [
                row
                for row in later
                if getattr(row, group) == getattr(start, group)
                and row.history_id > start.history_id
                and start.history_date <= row.history_date <= start.history_date + LOOK_AHEAD
            ]
            for row in following:
                if not _same_save(kind, row, rows[-1]):
                    break
                rows.append(row)
            else:
                # Every row read belongs to the save; more may follow if the last one is
                # within moments of the end of what was read.
                if rows[-1].history_date + SAME_SAVE > start.history_date + LOOK_AHEAD:
                    still.append(rows)
        unfinished = still
    return saves


def _rows_before(kind: Kind, firsts: Iterable[Any]) -> dict[int, Any]:
    """For each row, the row just before it of the same record (None for its first)."""
    manager = kind.history()._default_manager
    firsts = list(firsts)
    just_before = (
        manager.filter(id=OuterRef("id"), history_id__lt=OuterRef("history_id"))
        .order_by("-history_id")
        .values("history_id")[:1]
    )
    wanted = manager.filter(history_id__in=[row.history_id for row in firsts]).annotate(before=Subquery(just_before))
    found = list(manager.filter(history_id__in=wanted.values("before")))
    return {
        row.history_id: max(
            (earlier for earlier in found if earlier.id == row.id and earlier.history_id < row.history_id),
            key=lambda earlier: earlier.history_id,
            default=None,
        )
        for row in firsts
    }


def _kind_entries(site: Site, kind: Kind, ids: list[int]) -> dict[int, Entry]:
    heads = list(kind.history()._default_manager.filter(history_id__in=ids).select_related("history_user"))
    if not heads:
        return {}
    saves = _saves(kind, heads)
    per_save = [_by_record(rows) for rows in saves]
    before = _rows_before(kind, [rows[0] for per_record in per_save for rows in per_record.values()])
    loaded = [row for rows in saves for row in rows]
    m2m = _m2m_values(kind, [*loaded, *[row for row in before.values() if row is not None]])
    found = kind.lookups(site, loaded)
    drafts = [
        _draft(kind, rows[0], per_record, before, m2m, found, site)
        for rows, per_record in zip(saves, per_save, strict=True)
    ]
    names = _names(kind, [change for draft in drafts for change in draft.raw])
    return {draft.head: draft.entry(kind, names) for draft in drafts}


def _by_record(rows: Iterable[Any]) -> dict[int, list[Any]]:
    per_record: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        per_record[row.id].append(row)
    return per_record


def _m2m_values(kind: Kind, rows: Sequence[Any]) -> dict[str, dict[int, tuple[int, ...]]]:
    """Each row's many-to-many values (a service's settings, routes and areas), read
    from the snapshots simple-history keeps beside each row."""
    history = kind.history()
    values: dict[str, dict[int, tuple[int, ...]]] = {}
    for field in getattr(history, "_history_m2m_fields", []):
        snapshot = history.__dict__[field.name].model
        target = f"{get_m2m_reverse_field_name(field)}_id"
        chosen: dict[int, list[int]] = defaultdict(list)
        for history_id, target_id in snapshot._default_manager.filter(
            history_id__in=[row.history_id for row in rows]
        ).values_list("history_id", target):
            chosen[history_id].append(target_id)
        values[field.name] = {row.history_id: tuple(sorted(chosen.get(row.history_id, []))) for row in rows}
    return values


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == () or value == {} or value == []


@dataclass
class _RawChange:
    field: Any
    row: Any
    before: Any
    after: Any


@dataclass
class _Draft:
    head: int
    head_row: Any
    action: Action
    headline: str
    subject: str
    url: str | None
    unrecorded: bool
    raw: list[_RawChange]

    def entry(self, kind: Kind, names: dict[type[Model], dict[Any, str]]) -> Entry:
        source = self.head_row.history_change_reason or ""
        user = self.head_row.history_user
        return Entry(
            when=self.head_row.history_date,
            who=str(user) if user else ("THRIVE Mapper" if source == "system" else None),
            source=source,
            how=HOW.get(source, ""),
            kind=kind.key,
            action=self.action,
            headline=self.headline,
            subject=self.subject,
            url=self.url,
            changes=tuple(
                Change(
                    field=kind.label(change.field.name, change.row) or capfirst(str(change.field.verbose_name)),
                    before=_show(kind, change.field, change.before, names),
                    after=_show(kind, change.field, change.after, names),
                )
                for change in self.raw
            ),
            earlier_unrecorded=self.unrecorded,
        )


def _draft(
    kind: Kind,
    head: Any,
    per_record: dict[int, list[Any]],
    before: dict[int, Any],
    m2m: dict[str, dict[int, tuple[int, ...]]],
    found: dict[str, Any],
    site: Site,
) -> _Draft:
    history = kind.history()
    fields = [*history.tracked_fields, *getattr(history, "_history_m2m_fields", [])]

    def values(row: Any) -> dict[str, Any]:
        return {
            field.name: m2m[field.name][row.history_id] if field.many_to_many else getattr(row, field.attname)
            for field in fields
        }

    actions: set[Action] = set()
    unrecorded = False
    raw: list[_RawChange] = []
    for rows in per_record.values():
        first, last = rows[0], rows[-1]
        now = values(last)
        earlier = before.get(first.history_id)
        if last.history_type == "-":
            action: Action = "deleted"
            pairs = {name: (value, ABSENT) for name, value in now.items() if not _empty(value)}
        elif first.history_type == "+" or earlier is None:
            action = "created" if first.history_type == "+" else "changed"
            unrecorded = unrecorded or first.history_type != "+"
            pairs = {name: (ABSENT, value) for name, value in now.items() if not _empty(value)}
        else:
            action = "changed"
            was = values(earlier)
            pairs = {name: (was[name], value) for name, value in now.items() if was[name] != value}
        actions.add(action)
        raw.extend(
            _RawChange(field=field, row=last, before=pairs[field.name][0], after=pairs[field.name][1])
            for field in fields
            if field.name in pairs and field.name not in kind.hidden_fields
        )
        if first.history_id == head.history_id:
            head_last = last
            head_changes = {name: pair for name, pair in pairs.items() if name not in BOOKKEEPING}
    overall: Action = actions.pop() if len(actions) == 1 else "changed"
    return _Draft(
        head=head.history_id,
        head_row=head,
        action=overall,
        headline=kind.headline(overall, head_changes, head_last, found),
        subject=kind.subject(head_last, found),
        url=kind.url(head_last, found, site),
        unrecorded=unrecorded,
        raw=raw,
    )


def _names(kind: Kind, changes: Iterable[_RawChange]) -> dict[type[Model], dict[Any, str]]:
    """Names of the records the changes point to, one query per kind of record, and
    the last recorded name of one that was deleted since."""
    wanted: dict[type[Model], set[Any]] = defaultdict(set)
    for change in changes:
        model = change.field.related_model
        if model is None:
            continue
        for value in (change.before, change.after):
            if value is ABSENT:
                continue
            if change.field.many_to_many:
                wanted[model].update(value or ())
            elif value is not None:
                wanted[model].add(value)
    names: dict[type[Model], dict[Any, str]] = {}
    for model, ids in wanted.items():
        found = {pk: str(obj) for pk, obj in model._default_manager.in_bulk(ids).items()}
        missing = ids - set(found)
        if missing and hasattr(model, "history"):
            history = model.history.model
            for row in history._default_manager.filter(id__in=missing).order_by("history_id"):
                found[row.id] = str(getattr(row, "name", "") or GONE)
        names[model] = found
    return names


def _show(kind: Kind, field: Any, value: Any, names: dict[type[Model], dict[Any, str]]) -> str | None:
    """A stored value as people write it: labels for codes, names for ids, dates in words."""
    if value is ABSENT:
        return None
    own = kind.show(field.name, value)
    if own is not None:
        return own
    if _empty(value):
        return None
    if field.many_to_many:
        return ", ".join(sorted(names.get(field.related_model, {}).get(pk, GONE) for pk in value))
    if field.is_relation:
        return names.get(field.related_model, {}).get(value, GONE)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return when_text(value)
    if isinstance(value, date):
        return date_format(value, "j F Y")
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


# The feed ----------------------------------------------------------------------------


def activity_kinds() -> list[tuple[str, str]]:
    """The kinds of record a reader can narrow the feed to, as (key, label)."""
    return [(kind.key, kind.plural) for kind in KINDS]


def site_activity(*, site: Site, kinds: Collection[str] | None = None, person: User | None = None) -> ActivityList:
    """Every recorded change to the site's records, newest first (of the kinds of
    record asked for and by the person asked for, if any)."""
    chosen = [kind for kind in KINDS if not kinds or kind.key in kinds]
    return ActivityList(site, {kind.key: kind.site_rows(site) for kind in chosen}, person)


def people_in_activity(*, site: Site) -> list[User]:
    """Everyone who has changed one of the site's records, by name."""
    parts = [
        kind.history()
        ._default_manager.filter(kind.site_rows(site), history_user__isnull=False)
        .values_list("history_user_id")
        .order_by()
        for kind in KINDS
    ]
    first, *rest = parts
    ids = {pk for (pk,) in first.union(*rest)}
    return sorted(User.objects.filter(pk__in=ids), key=lambda user: (str(user).casefold(), user.username))


# A record's History page ----------------------------------------------------------------


def _recorded(model: type[Model], live: Q, past: Q) -> tuple[bool, datetime | None]:
    """Whether some of these records changed before history was kept (they have no
    "created" row), and when their recorded history starts."""
    history = model.history.model  # type: ignore[attr-defined]
    created = history._default_manager.filter(past, history_type="+").values("id")
    unrecorded = (
        model._default_manager.filter(live).exclude(pk__in=created).exists()
        or history._default_manager.filter(past).exclude(id__in=created).exists()
    )
    since = history._default_manager.filter(past).aggregate(first=Min("history_date"))["first"]
    return unrecorded, since


def _find(model: type[Model], site: Site, public_id: UUID | str) -> tuple[Any, Any]:
    """The record with this public id in the site, as it is now or as last recorded."""
    try:
        live = model._default_manager.filter(site=site, public_id=public_id).first()
        if live is not None:
            return live.pk, live
        history = model.history.model  # type: ignore[attr-defined]
        row = history._default_manager.filter(site_id=site.pk, public_id=public_id).order_by("-history_id").first()
    except (ValueError, TypeError):
        raise Http404("No such record") from None
    if row is None:
        raise Http404("No such record")
    return row.id, None


def _last_name(model: type[Model], pk: int, attribute: str) -> Any:
    history = model.history.model  # type: ignore[attr-defined]
    row = history._default_manager.filter(id=pk).order_by("-history_id").first()
    return getattr(row, attribute, "")


def service_history(*, site: Site, public_id: UUID | str) -> RecordHistory:
    """A service's changes and those of its mapping to the THRIVE groupings."""
    pk, live = _find(Service, site, public_id)
    unrecorded, since = _recorded(Service, Q(pk=pk), Q(id=pk))
    page = reverse("mapping:service-detail", kwargs={"site_slug": site.slug, "public_id": public_id})
    return RecordHistory(
        title=live.name if live else _last_name(Service, pk, "name"),
        noun="service",
        url=page if live else None,
        main_kind="service",
        activity=ActivityList(site, {"service": Q(id=pk), "offer": Q(service_id=pk)}),
        unrecorded=unrecorded,
        recorded_since=since,
    )


def organisation_history(*, site: Site, public_id: UUID | str) -> RecordHistory:
    pk, live = _find(Organisation, site, public_id)
    unrecorded, since = _recorded(Organisation, Q(pk=pk), Q(id=pk))
    return RecordHistory(
        title=live.name if live else _last_name(Organisation, pk, "name"),
        noun="organisation",
        url=reverse("mapping:organisation-list", kwargs={"site_slug": site.slug}) if live else None,
        main_kind="organisation",
        activity=ActivityList(site, {"organisation": Q(id=pk)}),
        unrecorded=unrecorded,
        recorded_since=since,
    )


def round_history(*, site: Site, public_id: UUID | str) -> RecordHistory:
    """A round's changes (date, notes, submitting, reopening, locking) with its agreed
    scores and participants' ratings."""
    pk, live = _find(Round, site, public_id)
    unrecorded, since = _recorded(Round, Q(pk=pk), Q(id=pk))
    sequence = live.sequence if live else _last_name(Round, pk, "sequence")
    return RecordHistory(
        title=round_label(sequence),
        noun="round",
        url=reverse("assessment:round-detail", kwargs={"site_slug": site.slug, "public_id": public_id})
        if live
        else None,
        main_kind="round",
        activity=ActivityList(site, {"round": Q(id=pk), "agreed-score": Q(round_id=pk), "rating": Q(round_id=pk)}),
        unrecorded=unrecorded,
        recorded_since=since,
    )


MAX_KEY_LENGTH = 120


def decision_history(*, site: Site, key: str) -> RecordHistory:
    """The site's decision on one improvement (accepting, dismissing, owner, dates,
    position) and its PDSA steps. An improvement nobody has decided on yet has an
    empty history; a key the site has never seen is a 404."""
    if "\x00" in key or len(key) > MAX_KEY_LENGTH:
        raise Http404("No such improvement")
    live = set(ImprovementDecision.objects.filter(site=site, key=key).values_list("pk", flat=True))
    past = set(ImprovementDecision.history.filter(site_id=site.pk, key=key).values_list("id", flat=True))
    titles, open_ = improvement_titles(site, {key})
    if not live and not past and key not in titles:
        raise Http404("No such improvement")
    ids = live | past
    unrecorded, since = _recorded(ImprovementDecision, Q(pk__in=ids), Q(id__in=ids))
    return RecordHistory(
        title=titles.get(key, key),
        noun="improvement",
        url=reverse("gaps:improvement", kwargs={"site_slug": site.slug, "key": key}) if key in open_ else None,
        main_kind="decision",
        activity=ActivityList(site, {"decision": Q(id__in=ids), "pdsa": Q(decision_id__in=ids)}),
        unrecorded=unrecorded,
        recorded_since=since,
    )


def _site_record_history(site: Site, key: str, title: str, noun: str, url: str | None) -> RecordHistory:
    kind = KIND_BY_KEY[key]
    unrecorded, since = _recorded(kind.model, Q(site=site), Q(site_id=site.pk))
    return RecordHistory(
        title=title,
        noun=noun,
        url=url,
        main_kind=key,
        activity=ActivityList(site, {key: kind.site_rows(site)}),
        unrecorded=unrecorded,
        recorded_since=since,
    )


def assumptions_history(*, site: Site) -> RecordHistory:
    url = reverse("gaps:assumptions", kwargs={"site_slug": site.slug})
    return _site_record_history(site, "assumptions", "Local assumptions", "assumptions", f"{url}#assumptions")


def population_history(*, site: Site) -> RecordHistory:
    url = reverse("gaps:assumptions", kwargs={"site_slug": site.slug})
    return _site_record_history(site, "population", "Population", "population", f"{url}#population")


def areas_history(*, site: Site) -> RecordHistory:
    return _site_record_history(site, "area", "Areas", "areas", None)
