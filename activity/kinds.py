"""The kinds of record whose history a site shows, and how each one reads.

Each kind says which of its historical rows belong to a site, which fields are
bookkeeping (hidden), what its fields are called, what the record is called and where
it lives, and the plain words for what happened to it ("Round submitted", "Removed
from Getting Help"). The bulk reads a page of entries needs are made once per kind
(`lookups`), never once per entry.
"""

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar, Literal

from django.db.models import Max, Model, Q
from django.urls import reverse

from accounts.models import User
from assessment.models import AgreedScore, Item, Rating, Round, RoundStatus
from assessment.principles import FALLBACK_PRINCIPLES
from gaps.models import (
    DecisionStatus,
    Improvement,
    ImprovementDecision,
    PdsaEntry,
    RunStatus,
    SiteAssumptions,
)
from mapping.models import Area, Grouping, Offer, Organisation, Service
from sites.models import AgeBand, Membership, Site, SitePopulation

Action = Literal["created", "changed", "deleted"]
# Field name -> (value before, value after), as stored.
RawChanges = Mapping[str, tuple[Any, Any]]
Found = dict[str, Any]

# Kept by every kind's history but never shown: they change with every save or
# repeat what the entry already says (who, when, which record).
BOOKKEEPING = frozenset({"id", "public_id", "site", "version", "mapping_version", "created_at", "updated_at"})


def round_label(sequence: int | None) -> str:
    if sequence is None:
        return "A round"
    return "Baseline" if sequence == 0 else f"Follow-up {sequence}"


def _item_label(item: Item | None) -> str:
    if item is None:
        return "an item no longer in the tool"
    return f"{item.principle.label} – {item.part.short_label}"


class Kind:
    key: ClassVar[str]
    model: ClassVar[type[Model]]
    noun: ClassVar[str]
    plural: ClassVar[str]
    # History rows written by one save share this value: one id for most records; the
    # site for the population, whose five age bands are saved together.
    group_field: ClassVar[str] = "id"
    # A row of these types that follows a row of the same group, by the same person
    # through the same door, within moments is part of the same save (a service and
    # its settings, routes and areas are saved as four rows).
    fold_types: ClassVar[tuple[str, ...]] = ("~",)
    hidden: ClassVar[frozenset[str]] = frozenset()
    field_labels: ClassVar[dict[str, str]] = {}

    @classmethod
    def history(cls) -> Any:
        return cls.model.history.model  # type: ignore[attr-defined]

    def site_rows(self, site: Site) -> Q:
        return Q(site_id=site.pk)

    def lookups(self, site: Site, rows: Sequence[Any]) -> Found:
        return {}

    def subject(self, row: Any, found: Found) -> str:
        return str(getattr(row, "name", "")) or self.noun

    def url(self, row: Any, found: Found, site: Site) -> str | None:
        return None

    def headline(self, action: Action, changes: RawChanges, row: Any, found: Found) -> str:
        return f"{self.noun} {action}"

    def label(self, field: str, row: Any) -> str | None:
        """A kind's own name for a field, or None for the model's verbose name."""
        return self.field_labels.get(field)

    def show(self, field: str, value: Any) -> str | None:
        """A kind's own wording for a value, or None for the usual formatting."""
        return None

    @property
    def hidden_fields(self) -> frozenset[str]:
        return BOOKKEEPING | self.hidden


def _live_or_past(model: type[Model], site_filter: Q) -> tuple[Any, Any]:
    """The ids of a site's records of `model`, now and in its history: a child record
    (an offer, a rating) belongs to the site through a parent that may be gone."""
    history = model.history.model  # type: ignore[attr-defined]
    return (
        model._default_manager.filter(site_filter).values("pk"),
        history._default_manager.filter(site_filter).values("id"),
    )


def _latest_rows(model: type[Model], ids: Iterable[int]) -> dict[int, Any]:
    """The last history row of each record, for records that no longer exist."""
    history = model.history.model  # type: ignore[attr-defined]
    wanted = set(ids)
    if not wanted:
        return {}
    last = history._default_manager.filter(id__in=wanted).values("id").annotate(last=Max("history_id"))
    rows = history._default_manager.filter(history_id__in=[row["last"] for row in last])
    return {row.id: row for row in rows}


class SiteKind(Kind):
    key = "site"
    model = Site
    noun = "Site"
    plural = "The site's details"
    field_labels = {"slug": "Short name in web addresses", "region": "NHS England region"}

    def site_rows(self, site: Site) -> Q:
        return Q(id=site.pk)

    def url(self, row: Any, found: Found, site: Site) -> str | None:
        return reverse("sites:overview", kwargs={"site_slug": site.slug})

    def headline(self, action: Action, changes: RawChanges, row: Any, found: Found) -> str:
        return {"created": "Site created", "changed": "Site details changed", "deleted": "Site deleted"}[action]


class MembershipKind(Kind):
    key = "member"
    model = Membership
    noun = "Member"
    plural = "Members"
    hidden = frozenset({"user"})

    def lookups(self, site: Site, rows: Sequence[Any]) -> Found:
        return {"users": User.objects.in_bulk({row.user_id for row in rows})}

    def subject(self, row: Any, found: Found) -> str:
        user = found["users"].get(row.user_id)
        return str(user) if user else "A person no longer registered"

    def headline(self, action: Action, changes: RawChanges, row: Any, found: Found) -> str:
        return {"created": "Member added", "changed": "Role changed", "deleted": "Member removed"}[action]


class OrganisationKind(Kind):
    key = "organisation"
    model = Organisation
    noun = "Organisation"
    plural = "Organisations"

    def url(self, row: Any, found: Found, site: Site) -> str | None:
        # An organisation has no page of its own that every reader may open: its
        # history is that page, and it stays readable after the record is deleted.
        return reverse("activity:organisation-history", kwargs={"site_slug": site.slug, "public_id": row.public_id})

    def headline(self, action: Action, changes: RawChanges, row: Any, found: Found) -> str:
        return {"created": "Organisation added", "changed": "Organisation changed", "deleted": "Organisation deleted"}[
            action
        ]


class AreaKind(Kind):
    key = "area"
    model = Area
    noun = "Area"
    plural = "Areas"

    def url(self, row: Any, found: Found, site: Site) -> str | None:
        return reverse("activity:areas-history", kwargs={"site_slug": site.slug})

    def headline(self, action: Action, changes: RawChanges, row: Any, found: Found) -> str:
        if action == "changed" and set(changes) == {"name"}:
            return "Area renamed"
        return {"created": "Area added", "changed": "Area changed", "deleted": "Area removed"}[action]


class ServiceKind(Kind):
    key = "service"
    model = Service
    noun = "Service"
    plural = "Services"
    # Who checked is the person the entry names; archiving has its own words.
    hidden = frozenset({"last_checked_by", "archived_at"})

    def lookups(self, site: Site, rows: Sequence[Any]) -> Found:
        return {"live": set(Service.objects.filter(pk__in={row.id for row in rows}).values_list("pk", flat=True))}

    def url(self, row: Any, found: Found, site: Site) -> str | None:
        if row.id not in found["live"]:
            return None
        return reverse("mapping:service-detail", kwargs={"site_slug": site.slug, "public_id": row.public_id})

    def headline(self, action: Action, changes: RawChanges, row: Any, found: Found) -> str:
        if action == "created":
            return "Service registered"
        if action == "deleted":
            return "Service deleted"
        if "archived_at" in changes:
            return "Service archived" if changes["archived_at"][1] else "Service restored"
        if changes and set(changes) <= {"last_checked_on", "last_checked_by"}:
            return "Record checked"
        return "Service changed"


class OfferKind(Kind):
    key = "offer"
    model = Offer
    noun = "Mapping"
    plural = "THRIVE mapping"
    hidden = frozenset({"service", "grouping"})
    field_labels = {"description": "Offer", "capacity_share": "Share of capacity"}

    def site_rows(self, site: Site) -> Q:
        live, past = _live_or_past(Service, Q(site_id=site.pk))
        return Q(service_id__in=live) | Q(service_id__in=past)

    def lookups(self, site: Site, rows: Sequence[Any]) -> Found:
        ids = {row.service_id for row in rows}
        live = {s.pk: s for s in Service.objects.filter(pk__in=ids).only("pk", "public_id", "name")}
        return {
            "live": live,
            "gone": _latest_rows(Service, ids - set(live)),
            "groupings": {g.pk: g.label for g in Grouping.objects.all()},
        }

    def subject(self, row: Any, found: Found) -> str:
        service = found["live"].get(row.service_id) or found["gone"].get(row.service_id)
        return service.name if service else "A service no longer recorded"

    def url(self, row: Any, found: Found, site: Site) -> str | None:
        service = found["live"].get(row.service_id)
        if service is None:
            return None
        return reverse("mapping:service-detail", kwargs={"site_slug": site.slug, "public_id": service.public_id})

    def headline(self, action: Action, changes: RawChanges, row: Any, found: Found) -> str:
        grouping = found["groupings"].get(row.grouping_id, "a grouping")
        return {"created": f"Mapped to {grouping}", "changed": f"Offer in {grouping} changed"}.get(
            action, f"Removed from {grouping}"
        )

    def show(self, field: str, value: Any) -> str | None:
        return f"{value}%" if field == "capacity_share" and value is not None else None


class RoundKind(Kind):
    key = "round"
    model = Round
    noun = "Round"
    plural = "Assessment rounds"
    hidden = frozenset(
        {"sequence", "created_by", "submitted_at", "submitted_by", "locked_at", "locked_by"},
    )
    field_labels = {"instrument": "Version of the tool"}

    def lookups(self, site: Site, rows: Sequence[Any]) -> Found:
        return {"live": set(Round.objects.filter(pk__in={row.id for row in rows}).values_list("pk", flat=True))}

    def subject(self, row: Any, found: Found) -> str:
        return round_label(row.sequence)

    def url(self, row: Any, found: Found, site: Site) -> str | None:
        if row.id not in found["live"]:
            return None
        return reverse("assessment:round-detail", kwargs={"site_slug": site.slug, "public_id": row.public_id})

    def headline(self, action: Action, changes: RawChanges, row: Any, found: Found) -> str:
        if action == "created":
            return "Round started"
        if action == "deleted":
            return "Round deleted"
        if "status" in changes:
            before, after = changes["status"]
            if after == RoundStatus.SUBMITTED:
                return "Round submitted"
            if after == RoundStatus.LOCKED:
                return "Round locked"
            if after == RoundStatus.DRAFT and before == RoundStatus.SUBMITTED:
                return "Round reopened"
        return "Round changed"


class _RoundPartKind(Kind):
    """A record that belongs to a round and one item of the tool."""

    def site_rows(self, site: Site) -> Q:
        live, past = _live_or_past(Round, Q(site_id=site.pk))
        return Q(round_id__in=live) | Q(round_id__in=past)

    def lookups(self, site: Site, rows: Sequence[Any]) -> Found:
        round_ids = {row.round_id for row in rows}
        live = {r.pk: r for r in Round.objects.filter(pk__in=round_ids).only("pk", "public_id", "sequence")}
        return {
            "live": set(
                self.model._default_manager.filter(pk__in={row.id for row in rows}).values_list("pk", flat=True)
            ),
            "rounds": live,
            "gone": _latest_rows(Round, round_ids - set(live)),
            "items": Item.objects.select_related("part", "principle").in_bulk({row.item_id for row in rows}),
        }

    def where(self, row: Any, found: Found) -> str:
        round_ = found["rounds"].get(row.round_id) or found["gone"].get(row.round_id)
        return f"{_item_label(found['items'].get(row.item_id))}, {round_label(getattr(round_, 'sequence', None))}"

    def url(self, row: Any, found: Found, site: Site) -> str | None:
        round_ = found["rounds"].get(row.round_id)
        item = found["items"].get(row.item_id)
        if row.id not in found["live"] or round_ is None or item is None:
            return None
        page = reverse(
            "assessment:round-score",
            kwargs={"site_slug": site.slug, "public_id": round_.public_id, "part_code": item.part.code},
        )
        return f"{page}#item-{item.code}"


class AgreedScoreKind(_RoundPartKind):
    key = "agreed-score"
    model = AgreedScore
    noun = "Agreed score"
    plural = "Agreed scores"
    hidden = frozenset({"round", "item", "updated_by"})
    field_labels = {"score": "Agreed score", "evidence_value": "Measure", "evidence_text": "Evidence"}

    def subject(self, row: Any, found: Found) -> str:
        return self.where(row, found)

    def headline(self, action: Action, changes: RawChanges, row: Any, found: Found) -> str:
        words = {"created": "recorded", "changed": "changed", "deleted": "removed"}
        return f"Agreed score {words[action]}"

    def show(self, field: str, value: Any) -> str | None:
        if field == "score" and value is None:
            return "Not yet scored"
        return None


class RatingKind(_RoundPartKind):
    key = "rating"
    model = Rating
    noun = "Rating"
    plural = "Participants' ratings"
    hidden = frozenset({"round", "item", "recorded_by"})

    def subject(self, row: Any, found: Found) -> str:
        return f"{row.participant}'s rating of {self.where(row, found)}"

    def headline(self, action: Action, changes: RawChanges, row: Any, found: Found) -> str:
        return {"created": "Rating recorded", "changed": "Rating changed", "deleted": "Rating deleted"}[action]


def improvement_titles(site: Site, keys: set[str]) -> tuple[dict[str, str], set[str]]:
    """Each key's title, from the latest run that suggested it, and the keys whose
    improvement page can be opened (a finished run lists it)."""
    if not keys:
        return {}, set()
    latest = {
        row["key"]: row["run"]
        for row in Improvement.objects.filter(run__site=site, run__status=RunStatus.SUCCEEDED, key__in=keys)
        .values("key")
        .annotate(run=Max("run_id"))
    }
    rows = [
        (key, title, data_quality)
        for key, run_id, title, data_quality in Improvement.objects.filter(
            run_id__in=set(latest.values()), key__in=keys
        ).values_list("key", "run_id", "title", "data_quality")
        if latest.get(key) == run_id
    ]
    titles = {key: title for key, title, _ in rows}
    return titles, {key for key, _, data_quality in rows if not data_quality}


class DecisionKind(Kind):
    key = "decision"
    model = ImprovementDecision
    noun = "Decision"
    plural = "Improvement decisions"
    hidden = frozenset({"key", "updated_by"})
    field_labels = {
        "status": "Decision",
        "dismiss_reason": "Reason for dismissing",
        "manual_rank": "Position chosen by the site",
        "due_on": "Due date",
    }

    def lookups(self, site: Site, rows: Sequence[Any]) -> Found:
        titles, open_ = improvement_titles(site, {row.key for row in rows})
        return {"titles": titles, "open": open_}

    def subject(self, row: Any, found: Found) -> str:
        return str(found["titles"].get(row.key, row.key))

    def url(self, row: Any, found: Found, site: Site) -> str | None:
        if row.key not in found["open"]:
            return None
        return reverse("gaps:improvement", kwargs={"site_slug": site.slug, "key": row.key})

    def headline(self, action: Action, changes: RawChanges, row: Any, found: Found) -> str:
        if action == "deleted":
            return "Decision deleted"
        status = row.status if action == "created" else changes.get("status", (None, None))[1]
        if status == DecisionStatus.ACCEPTED:
            return "Improvement accepted"
        if status == DecisionStatus.DISMISSED:
            return "Improvement dismissed"
        if status == DecisionStatus.OPEN and action == "changed":
            return "Marked not yet decided"
        return "Decision recorded" if action == "created" else "Decision changed"

    def show(self, field: str, value: Any) -> str | None:
        if field == "manual_rank" and value is None:
            return "Follows the priority"
        return None


class PdsaKind(Kind):
    key = "pdsa"
    model = PdsaEntry
    noun = "PDSA step"
    plural = "PDSA steps"
    hidden = frozenset({"decision", "recorded_by"})
    field_labels = {"recorded_on": "Date"}

    def site_rows(self, site: Site) -> Q:
        live, past = _live_or_past(ImprovementDecision, Q(site_id=site.pk))
        return Q(decision_id__in=live) | Q(decision_id__in=past)

    def lookups(self, site: Site, rows: Sequence[Any]) -> Found:
        ids = {row.decision_id for row in rows}
        keys = dict(ImprovementDecision.objects.filter(pk__in=ids).values_list("pk", "key"))
        keys |= {pk: row.key for pk, row in _latest_rows(ImprovementDecision, ids - set(keys)).items()}
        titles, open_ = improvement_titles(site, set(keys.values()))
        return {"keys": keys, "titles": titles, "open": open_}

    def subject(self, row: Any, found: Found) -> str:
        key = found["keys"].get(row.decision_id, "")
        return str(found["titles"].get(key, key or "An improvement"))

    def url(self, row: Any, found: Found, site: Site) -> str | None:
        key = found["keys"].get(row.decision_id)
        if key not in found["open"]:
            return None
        return reverse("gaps:improvement", kwargs={"site_slug": site.slug, "key": key})

    def headline(self, action: Action, changes: RawChanges, row: Any, found: Found) -> str:
        return {"created": "PDSA step recorded", "changed": "PDSA step changed", "deleted": "PDSA step deleted"}[action]


class AssumptionsKind(Kind):
    key = "assumptions"
    model = SiteAssumptions
    noun = "Local assumptions"
    plural = "Local assumptions"
    hidden = frozenset({"updated_by"})

    def subject(self, row: Any, found: Found) -> str:
        return "Local assumptions"

    def url(self, row: Any, found: Found, site: Site) -> str | None:
        return reverse("gaps:assumptions", kwargs={"site_slug": site.slug}) + "#assumptions"

    def headline(self, action: Action, changes: RawChanges, row: Any, found: Found) -> str:
        return {"created": "Assumptions set", "changed": "Assumptions changed", "deleted": "Assumptions reset"}[action]

    def show(self, field: str, value: Any) -> str | None:
        if field != "principle_weights":
            return None
        if not value:
            return "Every principle weighs 1"
        names = dict(FALLBACK_PRINCIPLES)
        return ", ".join(
            f"{names.get(code, code)} {Decimal(str(weight)).normalize():f}" for code, weight in sorted(value.items())
        )


class PopulationKind(Kind):
    key = "population"
    model = SitePopulation
    noun = "Population"
    plural = "Population"
    group_field = "site_id"
    fold_types = ("+", "~", "-")
    hidden = frozenset({"age_band"})

    def subject(self, row: Any, found: Found) -> str:
        return "Population"

    def url(self, row: Any, found: Found, site: Site) -> str | None:
        return reverse("gaps:assumptions", kwargs={"site_slug": site.slug}) + "#population"

    def headline(self, action: Action, changes: RawChanges, row: Any, found: Found) -> str:
        return {"created": "Population recorded", "changed": "Population changed", "deleted": "Population removed"}[
            action
        ]

    def label(self, field: str, row: Any) -> str | None:
        band = dict(AgeBand.choices).get(row.age_band, row.age_band)
        return f"Aged {band}"


KINDS: tuple[Kind, ...] = (
    ServiceKind(),
    OfferKind(),
    OrganisationKind(),
    AreaKind(),
    RoundKind(),
    AgreedScoreKind(),
    RatingKind(),
    DecisionKind(),
    PdsaKind(),
    AssumptionsKind(),
    PopulationKind(),
    MembershipKind(),
    SiteKind(),
)
KIND_BY_KEY: dict[str, Kind] = {kind.key: kind for kind in KINDS}
