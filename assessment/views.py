"""Pages of the THRIVE Assessment Tool: a site's rounds, scoring one part of the
system at a time, a round's results, the comparison across rounds, and the versions
of the tool. Views parse input, call assessment.services / assessment.selectors, and
shape what they return for display; the rules live in the services."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.mixins import UserPassesTestMixin
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.generic import FormView, TemplateView

from accounts.models import User
from core.forms import OUT_OF_DATE, StaleNotice, add_service_errors, model_values, stale_notice
from core.versioning import StaleSave
from sites.views import SiteScopedMixin

from . import selectors, services
from .charts import comparison_chart
from .forms import (
    AgreedScoreForm,
    InstrumentUploadForm,
    RatingForm,
    RatingRemoveForm,
    RoundForm,
    RoundVersionForm,
)
from .models import AgreedScore, Instrument, Item, Part, Rating, Round, RoundStatus
from .results import Change

NAV = "assessment"


def _add_validation_errors(form: BaseForm, error: ValidationError) -> None:
    """Show a rule broken in the service layer against the field it concerns, once."""
    add_service_errors(form, error)


# Display shapes ------------------------------------------------------------------


@dataclass
class PartProgress:
    part: Part
    items: list[Item] = field(default_factory=list)
    scored: int = 0

    @property
    def total(self) -> int:
        return len(self.items)


def _parts_with_progress(items: list[Item]) -> list[PartProgress]:
    """Items grouped by part of the system, in order, with how many have a score."""
    parts: dict[int, PartProgress] = {}
    for item in items:
        entry = parts.setdefault(item.part_id, PartProgress(part=item.part))
        entry.items.append(item)
        agreed: AgreedScore | None = item.agreed  # type: ignore[attr-defined]
        if agreed is not None and agreed.score is not None:
            entry.scored += 1
    return list(parts.values())


@dataclass(frozen=True)
class Spread:
    lowest: int
    highest: int
    counts: list[tuple[int, int]]


def _spread(ratings: list[Rating], scores: list[int]) -> Spread | None:
    if not ratings:
        return None
    given = [r.score for r in ratings]
    return Spread(lowest=min(given), highest=max(given), counts=[(s, given.count(s)) for s in scores])


@dataclass
class ItemEntry:
    """One item of a scoring page: its stored values, and its forms when the person
    may score it."""

    item: Item
    agreed: AgreedScore | None
    agreed_label: str
    agreed_descriptor: str
    ratings: list[Rating]
    spread: Spread | None
    score_form: AgreedScoreForm | None = None
    rating_form: RatingForm | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)
    saved: str = ""
    # A save refused because someone else saved first: what they saved, and what
    # this person entered (kept in the form).
    stale: StaleNotice | None = None


def _error_links(form: BaseForm | None) -> list[tuple[str, str]]:
    """Each error of a form with the id of the input it concerns, for an error summary."""
    if form is None or not form.is_bound:
        return []
    links: list[tuple[str, str]] = []
    first_id = ""
    for name in form.fields:
        bound = form[name]
        if bound.is_hidden:
            continue
        anchor = bound.auto_id
        if name == "score":
            # Radios: link to the first choice, as GOV.UK does.
            first_value = next(iter(form.fields[name].choices))[0]  # type: ignore[attr-defined]
            anchor = f"{bound.auto_id}_{first_value or 'none'}"
        first_id = first_id or anchor
        links.extend((str(message), anchor) for message in bound.errors)
    hidden_errors = [str(m) for name in form.fields if form[name].is_hidden for m in form[name].errors]
    return [(str(m), first_id) for m in [*form.non_field_errors(), *hidden_errors]] + links


def _change_text(value: Decimal | int | None) -> str:
    if value is None:
        return "Not scored"
    return str(value) if isinstance(value, int) else f"{value:.2f}"


def _delta_text(change: Change) -> str:
    delta = change.delta
    if delta is None:
        return "–"
    whole = isinstance(change.before, int) and isinstance(change.after, int)
    text = f"{abs(delta):.0f}" if whole else f"{abs(delta):.2f}"
    if delta > 0:
        return f"+{text}"
    if delta < 0:
        return f"−{text}"
    return text


@dataclass(frozen=True)
class ChangeRow:
    label: str
    before: str
    after: str
    delta: str
    direction: str


def _change_row(change: Change, label: str | None = None) -> ChangeRow:
    return ChangeRow(
        label=label or change.label,
        before=_change_text(change.before),
        after=_change_text(change.after),
        delta=_delta_text(change),
        direction=change.direction,
    )


# Rounds --------------------------------------------------------------------------


class RoundListView(SiteScopedMixin, TemplateView):
    template_name = "assessment/round_list.html"
    nav = NAV

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        rounds = list(selectors.rounds_for_site(site=self.site))
        context.update(
            rounds=rounds,
            draft_round=next((r for r in rounds if r.status == RoundStatus.DRAFT), None),
            can_compare=sum(1 for r in rounds if r.status != RoundStatus.DRAFT) >= 2,
            instrument=services.instrument_current(),
        )
        return context


class RoundCreateView(SiteScopedMixin, FormView[RoundForm]):
    template_name = "assessment/round_form.html"
    form_class = RoundForm
    edit = True
    nav = NAV

    def get_initial(self) -> dict[str, Any]:
        return {"held_on": timezone.localdate()}

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["submit_label"] = "Start the round"
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        rounds = list(selectors.rounds_for_site(site=self.site))
        context.update(
            is_first=not rounds,
            draft_round=next((r for r in rounds if r.status == RoundStatus.DRAFT), None),
            instrument=services.instrument_current(),
        )
        return context

    def form_valid(self, form: RoundForm) -> HttpResponse:
        try:
            round_ = services.round_create(
                site=self.site,
                user=self.acting_user,
                source="page",
                held_on=form.cleaned_data["held_on"],
                notes=form.cleaned_data["notes"],
            )
        except ValidationError as error:
            _add_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"{round_.label} started. Score each part of the system, then submit the round.")
        return redirect("assessment:round-detail", site_slug=self.site.slug, public_id=round_.public_id)


class _RoundMixin(SiteScopedMixin):
    nav = NAV
    kwargs: dict[str, Any]

    def get_round(self) -> Round:
        return selectors.round_get(site=self.site, public_id=self.kwargs["public_id"])


class RoundDetailView(_RoundMixin, TemplateView):
    template_name = "assessment/round_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        round_ = kwargs.get("round_") or self.get_round()
        items = selectors.round_items_with_scores(round_=round_)
        context.update(round=round_, parts=_parts_with_progress(items))
        return context


def _round_version(request: HttpRequest) -> int:
    """The version of the round the page showed, posted with a change to the round."""
    form = RoundVersionForm(request.POST)
    if not form.is_valid():
        raise ValidationError(OUT_OF_DATE)
    return int(form.cleaned_data["version"])


class _RoundActionView(_RoundMixin, TemplateView):
    """A change to the whole round (POST), from a page that showed the round at the
    version it posts. A rule the service refuses, or a round someone changed since,
    is shown on the round's page as it is now, in an error summary; nothing changes."""

    template_name = "assessment/round_detail.html"
    edit = True
    http_method_names = ["post"]

    def act(self, round_: Round, version: int) -> str:
        raise NotImplementedError

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        round_ = self.get_round()
        try:
            message = self.act(round_, _round_version(request))
        except ValidationError as error:
            round_ = self.get_round()
            items = selectors.round_items_with_scores(round_=round_)
            context = self.get_context_data(round_=round_, action_errors=error.messages)
            context["parts"] = _parts_with_progress(items)
            return self.render_to_response(context)
        messages.success(request, message)
        return redirect("assessment:round-detail", site_slug=self.site.slug, public_id=round_.public_id)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["round"] = kwargs["round_"]
        return context


class RoundSubmitView(_RoundActionView):
    def act(self, round_: Round, version: int) -> str:
        services.round_submit(round_=round_, user=self.acting_user, source="page", expected_version=version)
        return f"{round_.label} has been submitted. Its results are ready."


class RoundReopenView(_RoundActionView):
    def act(self, round_: Round, version: int) -> str:
        services.round_reopen(round_=round_, user=self.acting_user, source="page", expected_version=version)
        return f"{round_.label} is a draft again. Its scores can be changed, then submit it again."


class RoundLockView(_RoundMixin, TemplateView):
    """A confirmation page (GET) and the lock itself (POST): locking cannot be undone."""

    template_name = "assessment/round_lock.html"
    edit = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["round"] = kwargs.get("round_") or self.get_round()
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        round_ = self.get_round()
        try:
            services.round_lock(
                round_=round_, user=self.acting_user, source="page", expected_version=_round_version(request)
            )
        except ValidationError as error:
            # The round as it is now, so a second confirmation is a deliberate one.
            return self.render_to_response(self.get_context_data(round_=self.get_round(), action_errors=error.messages))
        messages.success(request, f"{round_.label} is locked. Its scores can no longer change.")
        return redirect("assessment:round-detail", site_slug=self.site.slug, public_id=round_.public_id)


class RoundEditView(_RoundMixin, FormView[RoundForm]):
    template_name = "assessment/round_form.html"
    form_class = RoundForm
    edit = True
    _round: Round | None = None

    @property
    def round(self) -> Round:
        if self._round is None:
            self._round = self.get_round()
        return self._round

    def get_initial(self) -> dict[str, Any]:
        return {"held_on": self.round.held_on, "notes": self.round.notes}

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["submit_label"] = "Save changes"
        kwargs["round_"] = self.round
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["round"] = self.round
        return context

    def form_valid(self, form: RoundForm) -> HttpResponse:
        try:
            round_ = services.round_update(
                round_=self.round,
                user=self.acting_user,
                source="page",
                held_on=form.cleaned_data["held_on"],
                notes=form.cleaned_data["notes"],
                expected_version=form.cleaned_data["version"],
            )
        except StaleSave as stale:
            notice = stale_notice(form, stale, theirs=model_values(stale.current, services.ROUND_FIELDS))
            return self.render_to_response(self.get_context_data(form=form, stale=notice))
        except ValidationError as error:
            _add_validation_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"The date and notes of {round_.label} have been saved.")
        return redirect("assessment:round-detail", site_slug=self.site.slug, public_id=round_.public_id)


# Scoring -------------------------------------------------------------------------


class _ScoringMixin(_RoundMixin):
    """One part of the system in a round: its items with their agreed scores and
    ratings, loaded in a fixed number of queries whatever the number of items."""

    request: HttpRequest

    def load_part(self, round_: Round) -> tuple[list[PartProgress], PartProgress]:
        parts = _parts_with_progress(selectors.round_items_with_scores(round_=round_))
        current = next((p for p in parts if p.part.code == self.kwargs["part_code"]), None)
        if current is None:
            raise Http404("No such part of the system")
        return parts, current

    def can_score(self, round_: Round) -> bool:
        return self.can_edit and round_.is_editable

    def entry(self, round_: Round, item: Item, **overrides: Any) -> ItemEntry:
        agreed: AgreedScore | None = item.agreed  # type: ignore[attr-defined]
        ratings: list[Rating] = item.round_ratings  # type: ignore[attr-defined]
        instrument = round_.instrument
        label = descriptor = ""
        if agreed is not None and agreed.score is not None:
            scale_label = instrument.scale_labels.get(str(agreed.score), "")
            label = f"{agreed.score} – {scale_label}" if scale_label else str(agreed.score)
            descriptor = item.descriptor(agreed.score)
        entry = ItemEntry(
            item=item,
            agreed=agreed,
            agreed_label=label,
            agreed_descriptor=descriptor,
            ratings=ratings,
            spread=_spread(ratings, instrument.scores),
        )
        if self.can_score(round_):
            entry.score_form = AgreedScoreForm(
                item=item, instrument=instrument, initial=AgreedScoreForm.initial_for(agreed)
            )
            entry.rating_form = RatingForm(item=item, instrument=instrument, ratings=ratings)
        for name, value in overrides.items():
            setattr(entry, name, value)
        if not entry.errors:
            entry.errors = _error_links(entry.score_form) + _error_links(entry.rating_form)
        return entry

    def score_context(self, round_: Round, *, target: str = "", **overrides: Any) -> dict[str, Any]:
        """Everything the scoring page needs; `overrides` replace parts of the
        entry of the item whose code is `target` (its bound forms, errors or status)."""
        parts, current = self.load_part(round_)
        entries = [self.entry(round_, item, **(overrides if item.code == target else {})) for item in current.items]
        index = parts.index(current)
        return {
            "round": round_,
            "parts": parts,
            "part": current.part,
            "part_progress": current,
            "entries": entries,
            "can_score": self.can_score(round_),
            "next_part": parts[index + 1] if index + 1 < len(parts) else None,
            "has_errors": any(e.errors for e in entries),
        }


class RoundScoreView(_ScoringMixin, TemplateView):
    template_name = "assessment/round_score.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        round_ = self.get_round()
        saved = self.request.GET.get("saved", "")
        context.update(self.score_context(round_, target=saved, saved="Your changes were saved." if saved else ""))
        return context


class _ItemActionView(_ScoringMixin, TemplateView):
    """A save on one item of a scoring page. With htmx the answer is the item's block
    (and the round's progress, out of band); without JavaScript a success redirects
    back to the item on the page and a refusal renders the whole page."""

    edit = True
    http_method_names = ["post"]

    def act(self, round_: Round, item: Item) -> dict[str, Any]:
        """Do the change; return overrides for the item's entry when refused, or {}."""
        raise NotImplementedError

    def success_message(self, round_: Round, item: Item) -> str:
        return "Saved."

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        round_ = self.get_round()
        _, current = self.load_part(round_)
        item = next((i for i in current.items if i.code == kwargs["item_code"]), None)
        if item is None:
            raise Http404("No such item")
        overrides = self.act(round_, item)
        round_ = self.get_round()
        if not overrides:
            if not request.htmx:  # type: ignore[attr-defined]
                url = reverse(
                    "assessment:round-score",
                    kwargs={"site_slug": self.site.slug, "public_id": round_.public_id, "part_code": item.part.code},
                )
                return redirect(f"{url}?saved={item.code}#item-{item.code}")
            overrides = {"saved": self.success_message(round_, item)}
        context = self.get_context_data(**self.score_context(round_, target=item.code, **overrides))
        if request.htmx:  # type: ignore[attr-defined]
            entry = next(e for e in context["entries"] if e.item.code == item.code)
            return render(request, "assessment/includes/score_item.html", {**context, "entry": entry, "oob": True})
        return render(request, "assessment/round_score.html", context)


def _not_editable(error: services.RoundNotEditable) -> dict[str, Any]:
    return {"errors": [(message, "") for message in error.messages]}


class ItemScoreSaveView(_ItemActionView):
    saved_label = ""

    def act(self, round_: Round, item: Item) -> dict[str, Any]:
        form = AgreedScoreForm(self.request.POST, item=item, instrument=round_.instrument)
        if not form.is_valid():
            return {"score_form": form}
        try:
            agreed = services.agreed_score_save(
                round_=round_,
                item=item,
                user=self.acting_user,
                source="page",
                data=form.to_input(),
                expected_version=form.cleaned_data["version"],
            )
        except StaleSave as stale:
            # The form keeps what this person entered and now carries the newer
            # version, so a second save is a deliberate choice to replace theirs.
            notice = stale_notice(form, stale, theirs=model_values(stale.current, services.AGREED_SCORE_FIELDS))
            return {"score_form": form, "stale": notice}
        except services.RoundNotEditable as error:
            return _not_editable(error)
        except ValidationError as error:
            _add_validation_errors(form, error)
            return {"score_form": form}
        self.saved_label = form.score_label(agreed.score) if agreed.score is not None else "not yet scored"
        return {}

    def success_message(self, round_: Round, item: Item) -> str:
        return f"Saved. The agreed score of {item.principle.label} is {self.saved_label}."


class RatingSaveView(_ItemActionView):
    def act(self, round_: Round, item: Item) -> dict[str, Any]:
        form = RatingForm(self.request.POST, item=item, instrument=round_.instrument)
        if not form.is_valid():
            return {"rating_form": form}
        try:
            services.rating_save(
                round_=round_,
                item=item,
                user=self.acting_user,
                source="page",
                participant=form.cleaned_data["participant"],
                score=form.cleaned_data["score"],
                seen=form.cleaned_data["seen"],
            )
        except StaleSave as stale:
            theirs = {"score": stale.current.score if stale.current is not None else None}
            notice = stale_notice(form, stale, theirs=theirs, version_field="seen")
            form.saw(selectors.ratings_of_round(round_=round_, item_code=item.code))
            return {"rating_form": form, "stale": notice}
        except services.RoundNotEditable as error:
            return _not_editable(error)
        except ValidationError as error:
            _add_validation_errors(form, error)
            return {"rating_form": form}
        return {}

    def success_message(self, round_: Round, item: Item) -> str:
        return f"Saved the rating for {item.principle.label}."


class RatingRemoveView(_ItemActionView):
    removed = ""

    def act(self, round_: Round, item: Item) -> dict[str, Any]:
        ratings: list[Rating] = item.round_ratings  # type: ignore[attr-defined]
        rating = next((r for r in ratings if r.public_id == self.kwargs["rating_id"]), None)
        if rating is None:
            removal = selectors.rating_removal(round_=round_, item=item, public_id=self.kwargs["rating_id"])
            if removal is None:
                raise Http404("No such rating")
            who, at = services.who_and_when(removal.history_user, removal.history_date)
            return {"errors": [(f"{who} removed {removal.participant}'s rating{at}, after you opened the page.", "")]}
        form = RatingRemoveForm(self.request.POST)
        if not form.is_valid():
            return {"errors": [(OUT_OF_DATE, "")]}
        try:
            services.rating_delete(
                rating=rating, user=self.acting_user, source="page", expected_version=form.cleaned_data["version"]
            )
        except StaleSave as stale:
            return {"errors": [(message, "") for message in stale.messages]}
        except services.RoundNotEditable as error:
            return _not_editable(error)
        self.removed = rating.participant
        return {}

    def success_message(self, round_: Round, item: Item) -> str:
        return f"Removed {self.removed}'s rating of {item.principle.label}."


# Results -------------------------------------------------------------------------


class RoundResultsView(_RoundMixin, TemplateView):
    template_name = "assessment/round_results.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        round_ = self.get_round()
        results = selectors.round_result(round_=round_)
        context.update(
            round=round_,
            results=results,
            rows=results.rows(),
            part_means=[(part, results.by_part[part.code]) for part in results.parts],
            scale_labels=round_.instrument.scale_labels,
        )
        return context


@dataclass
class ComparisonView:
    baseline: Round
    later: Round
    principles: list[ChangeRow]
    parts: list[ChangeRow]
    overall: ChangeRow
    items: list[ChangeRow]
    chart: Any


class RoundCompareView(SiteScopedMixin, TemplateView):
    template_name = "assessment/round_compare.html"
    nav = NAV

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        comparisons = []
        for index, (baseline, later, comparison) in enumerate(selectors.rounds_compared(site=self.site), start=1):
            instrument = later.instrument
            comparisons.append(
                ComparisonView(
                    baseline=baseline,
                    later=later,
                    principles=[_change_row(c) for c in comparison.principles],
                    parts=[_change_row(c) for c in comparison.parts],
                    overall=_change_row(comparison.overall),
                    items=[_change_row(change) for _, change in comparison.items],
                    chart=comparison_chart(
                        comparison.principles,
                        scale_max=instrument.scale_max,
                        threshold=instrument.threshold,
                        before_label=baseline.label,
                        after_label=later.label,
                        key=f"chart-{index}",
                    ),
                )
            )
        context.update(comparisons=comparisons, rounds=list(selectors.rounds_for_site(site=self.site)))
        return context


# Instruments ---------------------------------------------------------------------


class InstrumentListView(TemplateView):
    template_name = "assessment/instrument_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(instruments=list(selectors.instruments_all()), current=services.instrument_current())
        return context


class InstrumentDetailView(TemplateView):
    template_name = "assessment/instrument_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        instrument: Instrument = get_object_or_404(selectors.instruments_all(), version=kwargs["version"])
        context.update(instrument=instrument, items=list(selectors.instrument_items(instrument=instrument)))
        return context


class StaffOnlyMixin(UserPassesTestMixin):
    request: HttpRequest
    raise_exception = True
    permission_denied_message = "Only staff can load a new version of the assessment tool."

    def test_func(self) -> bool:
        return bool(self.request.user.is_authenticated and self.request.user.is_staff)


class InstrumentLoadView(StaffOnlyMixin, FormView[InstrumentUploadForm]):
    template_name = "assessment/instrument_load.html"
    form_class = InstrumentUploadForm

    def form_valid(self, form: InstrumentUploadForm) -> HttpResponse:
        try:
            instrument = services.instrument_load(data=form.cleaned_data["file"], user=cast(User, self.request.user))
        except ValidationError as error:
            # Every problem in the file, so it can be fixed in one go.
            for message in error.messages:
                form.add_error("file", message)
            return self.form_invalid(form)
        messages.success(
            self.request,
            f"Version {instrument.version} is loaded. New rounds will use it; rounds already started keep theirs.",
        )
        return redirect("instruments:instrument-detail", version=instrument.version)
