"""Pages of the gap analysis: the latest results, the list of runs, one run's results
with everything it used, its progress while it runs, one improvement with the site's
decision and PDSA steps, and the site's population and assumptions.

Views parse input, call gaps.services / gaps.selectors (and sites.services for the
population), and shape the run's stored results for display."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import ListView, TemplateView
from django_htmx.http import HttpResponseClientRedirect

from assessment.selectors import instruments_all
from sites import services as site_services
from sites.models import AgeBand
from sites.views import SiteScopedMixin

from . import services
from .engine import Kind
from .forms import PRINCIPLES, SPLIT_FIELDS, AssumptionsForm, DecisionForm, PdsaForm, PopulationForm, PositionForm
from .models import (
    DEFAULT_MAX_WAIT_WEEKS,
    DEFAULT_NEED_SPLIT,
    DEFAULT_SELF_REFERRAL_PERCENT,
    DEFAULT_THRIVING_PERCENT,
    AnalysisRun,
    DecisionStatus,
    Gap,
    Improvement,
    ImprovementDecision,
    RunStatus,
    RunTrigger,
)
from .selectors import (
    assumptions_for_site,
    improvements_with_decisions,
    latest_succeeded_run,
    population_for_site,
    prevalence_figures,
    run_comparison,
    run_get,
    runs_for_site,
)

RUNS_PER_PAGE = 25
NAV = "gaps"
# How the numbers behind a gap are labelled on the page; keys come from gaps.engine.
NUMBER_LABELS = {
    "need": "Estimated need a year",
    "capacity": "Capacity a year",
    "coverage_percent": "Coverage (%)",
    "acuity": "Acuity weight",
    "services": "Services",
    "sectors": "Sectors",
    "sector_names": "Sectors present",
    "population": "Population",
    "services_open": "Services open to self-referral",
    "capacity_percent": "Capacity open to self-referral (%)",
    "services_over": "Services over the target",
    "longest_weeks": "Longest wait (weeks)",
    "target_weeks": "Target (weeks)",
    "score": "Score",
    "threshold": "THRIVE-like from",
    "stale": "Records not checked",
    "days": "Stale after (days)",
}
# The assumptions' need-split fields and the grouping each one is for.
SPLIT_GROUPINGS = {
    "advice_percent": "getting-advice",
    "help_percent": "getting-help",
    "more_help_percent": "getting-more-help",
    "risk_percent": "getting-risk-support",
}


def _plain(value: Any) -> str:
    """A stored decimal as people write it: 80, 50.5."""
    try:
        return f"{Decimal(str(value)).normalize():f}"
    except ArithmeticError:
        return str(value)


def _same(value: Any, default: Any) -> bool:
    try:
        return Decimal(str(value)) == Decimal(str(default))
    except ArithmeticError:
        return False


def _attach_errors(form: BaseForm, error: ValidationError, *, general_field: str | None = None) -> None:
    """Show a rule broken in the service layer against the field it concerns; rules
    about the whole form go on `general_field` so the message sits by the inputs."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            target = field if field in form.fields else general_field
            form.add_error(target, field_errors)
    else:
        form.add_error(general_field, error)


def _principles() -> list[tuple[str, str]]:
    """Codes and labels of the THRIVE principles from the latest loaded instrument."""
    instrument = instruments_all().first()
    if instrument is not None:
        loaded = list(instrument.principles.order_by("order").values_list("code", "label"))
        if loaded:
            return loaded
    return list(PRINCIPLES)


# What a run's page shows ----------------------------------------------------------------


@dataclass(frozen=True)
class GapRow:
    gap: Gap
    grouping_label: str
    numbers: list[tuple[str, Any]]


@dataclass(frozen=True)
class ImprovementRow:
    item: Improvement
    position: int
    decision: ImprovementDecision | None
    gaps: list[GapRow]
    # The decision was made before this run, and carried over to it by the item's key.
    kept: bool

    @property
    def status(self) -> str:
        return self.decision.status if self.decision else DecisionStatus.OPEN

    @property
    def status_label(self) -> str:
        return DecisionStatus(self.status).label

    @property
    def placed_by_hand(self) -> bool:
        return bool(self.decision and self.decision.manual_rank)

    @property
    def decided(self) -> bool:
        decision = self.decision
        return bool(decision and (decision.status != DecisionStatus.OPEN or decision.owner or decision.due_on))

    @property
    def pdsa_steps(self) -> int:
        return len(self.decision.pdsa_entries.all()) if self.decision else 0


@dataclass(frozen=True)
class NeedRow:
    code: str
    label: str
    need: int
    capacity: int
    need_width: float
    capacity_width: float

    @property
    def coverage(self) -> int | None:
        return round(100 * self.capacity / self.need) if self.need else None


@dataclass(frozen=True)
class BandRow:
    label: str
    population: int
    percent: str
    source: dict[str, str] | None


@dataclass(frozen=True)
class AssumptionRow:
    label: str
    value: str
    # "default" (the project's), "site" (set by the site) or "setting" (the product's).
    origin: str


@dataclass(frozen=True)
class RunResults:
    run: AnalysisRun
    improvements: list[ImprovementRow]
    gap_groups: list[tuple[str, list[GapRow]]]
    data_quality: list[GapRow]
    gap_count: int
    need_rows: list[NeedRow]
    bands: list[BandRow]
    prevalence_recorded: bool
    survey: str
    assumptions: list[AssumptionRow]
    weights: list[AssumptionRow]
    services: dict[str, Any]
    assessment: dict[str, Any] | None
    assessment_held_on: date | None
    comparison: dict[str, list[dict[str, Any]]] | None


def _gap_row(gap: Gap, groupings: dict[str, str]) -> GapRow:
    # JSON storage does not keep the engine's order of the numbers; show them in ours.
    order = list(NUMBER_LABELS)
    keys = sorted(gap.numbers, key=lambda k: (order.index(k) if k in order else len(order), k))
    numbers = [(NUMBER_LABELS.get(key, key.replace("_", " ").capitalize()), gap.numbers[key]) for key in keys]
    return GapRow(gap=gap, grouping_label=groupings.get(gap.grouping, ""), numbers=numbers)


def _need_rows(inputs: dict[str, Any], groupings: list[tuple[str, str]]) -> list[NeedRow]:
    need = inputs.get("need_by_grouping") or {}
    capacity = inputs.get("capacity_by_grouping") or {}
    top = max([*need.values(), *capacity.values(), 1])
    return [
        NeedRow(
            code=code,
            label=label,
            need=need.get(code, 0),
            capacity=capacity.get(code, 0),
            need_width=round(100 * need.get(code, 0) / top, 1),
            capacity_width=round(100 * capacity.get(code, 0) / top, 1),
        )
        for code, label in groupings
    ]


ASSUMPTION_VALUE_FIELDS = ("thriving_percent", *SPLIT_FIELDS, "max_wait_weeks", "self_referral_percent")


def _assumption_rows(
    inputs: dict[str, Any], groupings: dict[str, str]
) -> tuple[list[AssumptionRow], list[AssumptionRow]]:
    used = inputs.get("assumptions") or {}
    split = used.get("need_split_percent") or {}
    rows = [
        AssumptionRow(
            "Thriving: share of all children and young people",
            f"{_plain(used.get('thriving_percent', ''))}%",
            "default" if _same(used.get("thriving_percent"), DEFAULT_THRIVING_PERCENT) else "site",
        )
    ]
    for code, default in DEFAULT_NEED_SPLIT.items():
        rows.append(
            AssumptionRow(
                f"{groupings.get(code, code)}: share of need",
                f"{_plain(split.get(code, ''))}%",
                "default" if _same(split.get(code), default) else "site",
            )
        )
    rows.append(
        AssumptionRow(
            "Maximum wait target",
            f"{used.get('max_wait_weeks', '')} weeks",
            "default" if used.get("max_wait_weeks") == DEFAULT_MAX_WAIT_WEEKS else "site",
        )
    )
    # Runs made before the target could be set used the default.
    self_referral = used.get("self_referral_percent", DEFAULT_SELF_REFERRAL_PERCENT)
    rows.append(
        AssumptionRow(
            "Self-referral target: share of advice and help capacity",
            f"{self_referral}%",
            "default" if self_referral == DEFAULT_SELF_REFERRAL_PERCENT else "site",
        )
    )
    if "stale_after_days" in used:
        rows.append(AssumptionRow("Records count as stale after", f"{used['stale_after_days']} days", "setting"))
    labels = dict(PRINCIPLES) | dict(inputs.get("principle_labels") or {})
    weights = used.get("principle_weights") or {}
    weight_rows = [
        AssumptionRow(label, _plain(weights.get(code, 1)), "default" if _same(weights.get(code, 1), 1) else "site")
        for code, label in ((code, labels.get(code, code)) for code, _ in PRINCIPLES)
    ]
    return rows, weight_rows


def _band_rows(inputs: dict[str, Any]) -> tuple[list[BandRow], bool, str]:
    sources = {figure["age_band"]: figure for figure in inputs.get("prevalence") or []}
    bands = [
        BandRow(
            label=band["label"],
            population=band["population"],
            percent=_plain(band["prevalence_percent"]),
            source=sources.get(band["code"]),
        )
        for band in inputs.get("age_bands") or []
    ]
    surveys = sorted({figure["survey"] for figure in sources.values()})
    return bands, "prevalence" in inputs, "; ".join(surveys)


def run_results(run: AnalysisRun) -> RunResults:
    """Everything a succeeded run's page shows, in a fixed number of queries."""
    inputs = run.inputs or {}
    grouping_pairs = [(code, label) for code, label in inputs.get("groupings") or []]
    groupings = dict(grouping_pairs)
    gaps = list(run.gaps.all())
    rows_by_key = {gap.key: _gap_row(gap, groupings) for gap in gaps}
    improvements = [
        ImprovementRow(
            item=item,
            position=position,
            decision=item.decision,  # type: ignore[attr-defined]
            gaps=[rows_by_key[key] for key in item.gap_keys if key in rows_by_key],
            kept=bool(item.decision and item.decision.updated_at < run.created_at),  # type: ignore[attr-defined]
        )
        for position, item in enumerate(improvements_with_decisions(run=run), start=1)
    ]
    gap_groups = []
    for kind, label in Kind.LABELS.items():
        of_kind = [rows_by_key[g.key] for g in gaps if g.kind == kind and not g.data_quality]
        if of_kind:
            gap_groups.append((label, of_kind))
    bands, prevalence_recorded, survey = _band_rows(inputs)
    assumptions, weights = _assumption_rows(inputs, groupings)
    assessment = inputs.get("assessment")
    return RunResults(
        run=run,
        improvements=improvements,
        gap_groups=gap_groups,
        data_quality=[rows_by_key[g.key] for g in gaps if g.data_quality],
        gap_count=sum(1 for g in gaps if not g.data_quality),
        need_rows=_need_rows(inputs, grouping_pairs),
        bands=bands,
        prevalence_recorded=prevalence_recorded,
        survey=survey,
        assumptions=assumptions,
        weights=weights,
        services=inputs.get("services") or {},
        assessment=assessment,
        assessment_held_on=date.fromisoformat(assessment["held_on"]) if assessment else None,
        comparison=run_comparison(run=run),
    )


def _error_in_plain_words(run: AnalysisRun) -> str:
    """The first line of a failed run's error: what stopped it, without the traceback."""
    return (run.error or "").strip().split("\n", 1)[0][:300]


# Pages ---------------------------------------------------------------------------------


class GapsHomeView(SiteScopedMixin, TemplateView):
    """The latest results, the run in progress if there is one, or what the analysis does."""

    template_name = "gaps/home.html"
    nav = NAV

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        current = runs_for_site(site=self.site).first()
        latest = latest_succeeded_run(site=self.site)
        context.update(
            current_run=current,
            in_progress=current is not None and not current.is_finished,
            failed_run=current if current is not None and current.status == RunStatus.FAILED else None,
            failed_error=_error_in_plain_words(current) if current is not None else "",
            results=run_results(latest) if latest is not None else None,
            population_missing=not any(population_for_site(site=self.site).values()),
        )
        return context


class RunRequestView(SiteScopedMixin, View):
    """Starts a run and answers at once; the run is carried out by a Celery worker."""

    edit = True
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        asked_at = timezone.now()
        outcome = services.run_request(site=self.site, user=self.acting_user, trigger=RunTrigger.PAGE)
        if not outcome.enqueued:
            messages.warning(request, outcome.message)
        elif outcome.run.created_at >= asked_at:
            messages.success(request, "The gap analysis has started. Its progress is shown below.")
        else:
            messages.info(request, outcome.message)
        return redirect("gaps:gaps-home", site_slug=self.site.slug)


class RunListView(SiteScopedMixin, ListView[AnalysisRun]):
    template_name = "gaps/run_list.html"
    nav = NAV
    paginate_by = RUNS_PER_PAGE
    context_object_name = "runs"

    def get_queryset(self) -> Any:
        return runs_for_site(site=self.site).annotate(gap_count=Count("gaps", filter=Q(gaps__data_quality=False)))


class RunDetailView(SiteScopedMixin, TemplateView):
    template_name = "gaps/run_detail.html"
    nav = NAV

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        run = run_get(site=self.site, public_id=kwargs["public_id"])
        context.update(
            run=run,
            results=run_results(run) if run.status == RunStatus.SUCCEEDED else None,
            failed_error=_error_in_plain_words(run),
        )
        return context


class RunProgressView(SiteScopedMixin, TemplateView):
    """A run's progress. With htmx, the partial the page polls every second; once the
    run has finished, a fragment that loads the results into the page. Without
    JavaScript, a page that links to itself, and then to the results."""

    template_name = "gaps/run_progress.html"
    nav = NAV

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        run = run_get(site=self.site, public_id=kwargs["public_id"])
        detail_url = reverse("gaps:run-detail", kwargs={"site_slug": self.site.slug, "public_id": run.public_id})
        context = {"site": self.site, "run": run, "can_edit": self.can_edit, "detail_url": detail_url}
        if request.htmx:  # type: ignore[attr-defined]
            if run.is_finished:
                reload_url = self._page_showing_results(request, run, detail_url)
                if reload_url is None:
                    return HttpResponseClientRedirect(detail_url)
                return render(request, "gaps/includes/run_finished.html", {**context, "reload_url": reload_url})
            return render(request, "gaps/includes/run_progress.html", context)
        if run.is_finished:
            return redirect(detail_url)
        return self.render_to_response(self.get_context_data(run=run))

    def _page_showing_results(self, request: HttpRequest, run: AnalysisRun, detail_url: str) -> str | None:
        """The page the progress bar sits on (the site's gap analysis or the run's own
        page), whose results region is loaded in place; None for any other page (the
        plain progress page), which goes to the run's page instead."""
        home_url = reverse("gaps:gaps-home", kwargs={"site_slug": self.site.slug})
        current = urlsplit(request.htmx.current_url_abs_path or "").path  # type: ignore[attr-defined]
        return current if current in (home_url, detail_url) else None


@dataclass(frozen=True)
class ImprovementPage:
    run: AnalysisRun
    row: ImprovementRow
    in_latest_run: bool
    latest_run: AnalysisRun | None


class ImprovementView(SiteScopedMixin, TemplateView):
    """One improvement from the latest run that suggested it, with the site's
    decision on it (kept across runs by its key) and its PDSA steps."""

    template_name = "gaps/improvement.html"
    nav = NAV

    def _load(self, key: str) -> ImprovementPage:
        run = (
            runs_for_site(site=self.site)
            .filter(status=RunStatus.SUCCEEDED, improvements__key=key, improvements__data_quality=False)
            .first()
        )
        if run is None:
            raise Http404("No such improvement")
        items = improvements_with_decisions(run=run)
        position, item = next((p, i) for p, i in enumerate(items, start=1) if i.key == key)
        groupings = dict((code, label) for code, label in (run.inputs or {}).get("groupings") or [])
        gaps = [_gap_row(gap, groupings) for gap in run.gaps.filter(key__in=item.gap_keys)]
        decision: ImprovementDecision | None = item.decision  # type: ignore[attr-defined]
        latest = latest_succeeded_run(site=self.site)
        return ImprovementPage(
            run=run,
            row=ImprovementRow(
                item=item,
                position=position,
                decision=decision,
                gaps=gaps,
                kept=bool(decision and decision.updated_at < run.created_at),
            ),
            in_latest_run=latest is not None and latest.pk == run.pk,
            latest_run=latest,
        )

    def _forms(self, page: ImprovementPage, bound: BaseForm | None = None) -> dict[str, BaseForm]:
        decision = page.row.decision
        forms: dict[str, BaseForm] = {
            "decision_form": DecisionForm(
                initial={
                    "status": page.row.status,
                    "dismiss_reason": decision.dismiss_reason if decision else "",
                    "owner": decision.owner if decision else "",
                    "due_on": decision.due_on if decision else None,
                }
            ),
            "position_form": PositionForm(initial={"manual_rank": decision.manual_rank if decision else None}),
            "pdsa_form": PdsaForm(initial={"recorded_on": timezone.localdate()}),
        }
        if bound is not None:
            forms[f"{bound.prefix}_form"] = bound
        return forms

    def _render(self, page: ImprovementPage, bound: BaseForm | None = None) -> HttpResponse:
        decision = page.row.decision
        context = self.get_context_data(
            page=page,
            improvement=page.row.item,
            pdsa_entries=list(decision.pdsa_entries.select_related("recorded_by")) if decision else [],
            decided_by=decision.updated_by if decision else None,
            principle_label=((page.run.inputs or {}).get("principle_labels") or {}).get(
                page.row.item.principle, dict(PRINCIPLES).get(page.row.item.principle, page.row.item.principle)
            ),
            bound_form=bound,
            **self._forms(page, bound),
        )
        return self.render_to_response(context)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._render(self._load(kwargs["key"]))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can_edit:
            raise PermissionDenied("Only the site's commissioners can decide on improvements.")
        key = kwargs["key"]
        page = self._load(key)
        title = page.row.item.title
        action = request.POST.get("action")
        form: BaseForm
        try:
            if action == "decision":
                form = DecisionForm(request.POST)
                if not form.is_valid():
                    return self._render(page, form)
                due_on = form.cleaned_data["due_on"]
                decision = services.decision_update(
                    site=self.site,
                    key=key,
                    user=self.acting_user,
                    status=form.cleaned_data["status"],
                    dismiss_reason=form.cleaned_data["dismiss_reason"],
                    owner=form.cleaned_data["owner"],
                    due_on=due_on,
                    clear_due_on=due_on is None,
                )
                messages.success(
                    request, f"Your decision on “{title}” has been saved: {decision.get_status_display()}."
                )
            elif action == "position":
                form = PositionForm(request.POST)
                if not form.is_valid():
                    return self._render(page, form)
                services.decision_update(
                    site=self.site, key=key, user=self.acting_user, manual_rank=form.cleaned_data["manual_rank"]
                )
                messages.success(request, f"“{title}” is now number {form.cleaned_data['manual_rank']} in the list.")
            elif action == "position-clear":
                form = PositionForm()
                services.decision_update(site=self.site, key=key, user=self.acting_user, clear_rank=True)
                messages.success(request, f"“{title}” now takes its place in the list by priority.")
            elif action == "pdsa":
                form = PdsaForm(request.POST)
                if not form.is_valid():
                    return self._render(page, form)
                entry = services.pdsa_record(
                    site=self.site,
                    key=key,
                    user=self.acting_user,
                    stage=form.cleaned_data["stage"],
                    note=form.cleaned_data["note"],
                    recorded_on=form.cleaned_data["recorded_on"],
                )
                messages.success(request, f"The {entry.get_stage_display().lower()} step has been recorded.")
            else:
                return HttpResponseBadRequest("Unknown action.")
        except ValidationError as error:
            _attach_errors(form, error)
            return self._render(page, form)
        return redirect("gaps:improvement", site_slug=self.site.slug, key=key)


class AssumptionsView(SiteScopedMixin, TemplateView):
    """The site's population and local assumptions; commissioners change them, others
    read them. Shows the prevalence figures staff keep in the admin."""

    template_name = "gaps/assumptions.html"
    nav = NAV

    def _context(
        self, population_form: PopulationForm | None = None, assumptions_form: AssumptionsForm | None = None
    ) -> dict[str, Any]:
        principles = _principles()
        population = population_for_site(site=self.site)
        assumptions = assumptions_for_site(site=self.site)
        values = {name: getattr(assumptions, name) for name in ASSUMPTION_VALUE_FIELDS}
        weights = assumptions.principle_weights or {}
        defaults: dict[str, Any] = {
            "thriving_percent": DEFAULT_THRIVING_PERCENT,
            "max_wait_weeks": DEFAULT_MAX_WAIT_WEEKS,
            "self_referral_percent": DEFAULT_SELF_REFERRAL_PERCENT,
            **{field: DEFAULT_NEED_SPLIT[code] for field, code in SPLIT_GROUPINGS.items()},
        }
        if population_form is None:
            population_form = PopulationForm(initial=PopulationForm.initial_from(population))
        if assumptions_form is None:
            assumptions_form = AssumptionsForm(
                initial=AssumptionsForm.initial_from(values=values, weights=weights, principles=principles),
                principles=principles,
            )
        for name, default in defaults.items():
            field = assumptions_form.fields[name]
            field.help_text = f"{field.help_text} Project default: {_plain(default)}.".strip()
        for code, _ in principles:
            assumptions_form.fields[AssumptionsForm.weight_name(code)].help_text = "Project default: 1."
        row_labels = {
            "thriving_percent": "Thriving: share of all children and young people",
            "max_wait_weeks": "Maximum wait target",
            "self_referral_percent": "Self-referral target: share of advice and help capacity",
            **{name: f"{assumptions_form.fields[name].label}: share of need" for name in SPLIT_FIELDS},
        }
        value_rows = [
            AssumptionRow(
                row_labels[name],
                _plain(values[name]) + (" weeks" if name == "max_wait_weeks" else "%"),
                "default" if _same(values[name], defaults[name]) else "site",
            )
            for name in ASSUMPTION_VALUE_FIELDS
        ]
        weight_rows = [
            AssumptionRow(label, _plain(weights.get(code, 1)), "default" if _same(weights.get(code, 1), 1) else "site")
            for code, label in principles
        ]
        return self.get_context_data(
            population=[(band.label, population[band.value]) for band in AgeBand],
            population_form=population_form,
            assumptions_form=assumptions_form,
            bound_form=next((f for f in (population_form, assumptions_form) if f.is_bound and f.errors), None),
            assumptions=assumptions,
            value_rows=value_rows,
            weight_rows=weight_rows,
            uses_defaults=assumptions.pk is None,
            prevalence=prevalence_figures(),
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_to_response(self._context())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can_edit:
            raise PermissionDenied("Only the site's commissioners can change its assumptions.")
        action = request.POST.get("action")
        if action == "population":
            population_form = PopulationForm(request.POST)
            if population_form.is_valid():
                try:
                    site_services.population_set(site=self.site, user=self.acting_user, people=population_form.people())
                except ValidationError as error:
                    _attach_errors(
                        population_form,
                        ValidationError(
                            {
                                PopulationForm.field_name(k) if k != "__all__" else k: v
                                for k, v in error.message_dict.items()
                            }
                        ),
                    )
                else:
                    messages.success(request, "The population has been saved. It is used from the next analysis.")
                    return redirect("gaps:assumptions", site_slug=self.site.slug)
            return self.render_to_response(self._context(population_form=population_form))
        if action == "assumptions":
            assumptions_form = AssumptionsForm(request.POST, principles=_principles())
            if assumptions_form.is_valid():
                try:
                    services.assumptions_update(
                        site=self.site, user=self.acting_user, data=assumptions_form.assumptions_data()
                    )
                except ValidationError as error:
                    _attach_errors(assumptions_form, error, general_field=SPLIT_FIELDS[0])
                else:
                    messages.success(request, "The assumptions have been saved. They are used from the next analysis.")
                    return redirect("gaps:assumptions", site_slug=self.site.slug)
            return self.render_to_response(self._context(assumptions_form=assumptions_form))
        return HttpResponseBadRequest("Unknown action.")
