"""Pages of the gap analysis: the latest results, the list of runs, one run's results
with everything it used, its progress while it runs, one improvement with the site's
decision and PDSA steps, and the site's population and assumptions.

Views read input, call one function of gaps.results, gaps.services or sites.services,
and render. Results are built in gaps.results, which the API reads too. Pages that
show runs first recover the site's stuck ones (services.runs_recover), so a run left
"running" by a server killed mid-run never blocks the site.
"""

from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import ListView, TemplateView
from django_htmx.http import HttpResponseClientRedirect

from core.forms import StaleNotice, add_service_errors, model_values, stale_notice
from core.versioning import StaleSave
from sites import services as site_services
from sites.views import SiteScopedMixin

from . import services
from .forms import (
    SPLIT_FIELDS,
    AssumptionsForm,
    DecisionForm,
    PdsaForm,
    PopulationForm,
    PositionClearForm,
    PositionForm,
)
from .models import AnalysisRun, RunStatus, RunTrigger
from .results import (
    ImprovementPage,
    SiteInputs,
    failure_in_plain_words,
    gap_analysis_home,
    improvement_page,
    run_results,
    site_inputs,
)
from .selectors import run_get, runs_with_gap_counts

RUNS_PER_PAGE = 25
NAV = "gaps"
# The improvement page's forms, by the action each posts.
FORM_NAMES = {
    "decision": "decision_form",
    "position": "position_form",
    "position-clear": "position_clear_form",
    "pdsa": "pdsa_form",
}


class GapsHomeView(SiteScopedMixin, TemplateView):
    """The latest results, the run in progress if there is one, or what the analysis does."""

    template_name = "gaps/home.html"
    nav = NAV

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        services.runs_recover(site=self.site)
        return self.render_to_response(self.get_context_data(home=gap_analysis_home(site=self.site)))


class RunRequestView(SiteScopedMixin, View):
    """Starts a run and answers at once; the run is carried out by a Celery worker
    (or, in the embedded mode, in-process before this answer)."""

    edit = True
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        outcome = services.run_request(site=self.site, user=self.acting_user, trigger=RunTrigger.PAGE)
        if not outcome.enqueued or outcome.run.status == RunStatus.FAILED:
            messages.warning(request, outcome.message)
        elif outcome.created:
            messages.success(request, outcome.message)
        else:
            messages.info(request, outcome.message)
        return redirect("gaps:gaps-home", site_slug=self.site.slug)


class RunListView(SiteScopedMixin, ListView[AnalysisRun]):
    template_name = "gaps/run_list.html"
    nav = NAV
    paginate_by = RUNS_PER_PAGE
    context_object_name = "runs"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        services.runs_recover(site=self.site)
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        return runs_with_gap_counts(site=self.site)


class RunDetailView(SiteScopedMixin, TemplateView):
    template_name = "gaps/run_detail.html"
    nav = NAV

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        services.runs_recover(site=self.site)
        run = run_get(site=self.site, public_id=kwargs["public_id"])
        return self.render_to_response(
            self.get_context_data(
                run=run,
                results=run_results(run=run) if run.status == RunStatus.SUCCEEDED else None,
                failed_error=failure_in_plain_words(run),
            )
        )


class RunProgressView(SiteScopedMixin, TemplateView):
    """A run's progress. With htmx, the partial the page polls every second; once the
    run has finished, a fragment that loads the results into the page. Without
    JavaScript, a page that links to itself, and then to the results."""

    template_name = "gaps/run_progress.html"
    nav = NAV

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        services.runs_recover(site=self.site)
        run = run_get(site=self.site, public_id=kwargs["public_id"])
        detail_url = reverse("gaps:run-detail", kwargs={"site_slug": self.site.slug, "public_id": run.public_id})
        context = {"site": self.site, "run": run, "can_edit": self.can_edit, "detail_url": detail_url}
        if request.htmx:  # type: ignore[attr-defined]
            if run.is_finished:
                reload_url = self._page_showing_results(request, detail_url)
                if reload_url is None:
                    return HttpResponseClientRedirect(detail_url)
                return render(request, "gaps/includes/run_finished.html", {**context, "reload_url": reload_url})
            return render(request, "gaps/includes/run_progress.html", context)
        if run.is_finished:
            return redirect(detail_url)
        return self.render_to_response(self.get_context_data(run=run))

    def _page_showing_results(self, request: HttpRequest, detail_url: str) -> str | None:
        """The page the progress bar sits on (the site's gap analysis or the run's own
        page), whose results region is loaded in place; None for any other page (the
        plain progress page), which goes to the run's page instead."""
        home_url = reverse("gaps:gaps-home", kwargs={"site_slug": self.site.slug})
        current = urlsplit(request.htmx.current_url_abs_path or "").path  # type: ignore[attr-defined]
        return current if current in (home_url, detail_url) else None


class ImprovementView(SiteScopedMixin, TemplateView):
    """One improvement from the latest run that suggested it, with the site's
    decision on it (kept across runs by its key) and its PDSA steps. The decision
    form and the position form change one decision, whose version both send back."""

    template_name = "gaps/improvement.html"
    nav = NAV

    def _render(
        self,
        page: ImprovementPage,
        bound: BaseForm | None = None,
        *,
        bound_name: str = "",
        stale: StaleNotice | None = None,
    ) -> HttpResponse:
        decision = page.item.decision
        forms: dict[str, BaseForm] = {
            "decision_form": DecisionForm(
                initial={
                    "status": decision.status,
                    "dismiss_reason": decision.dismiss_reason,
                    "owner": decision.owner,
                    "due_on": decision.due_on,
                    "version": decision.version,
                }
            ),
            "position_form": PositionForm(initial={"manual_rank": decision.manual_rank, "version": decision.version}),
            "position_clear_form": PositionClearForm(initial={"version": decision.version}),
            "pdsa_form": PdsaForm(initial={"recorded_on": timezone.localdate()}),
        }
        if bound is not None:
            forms[bound_name] = bound
        return self.render_to_response(
            self.get_context_data(
                page=page, improvement=page.item, decision=decision, bound_form=bound, stale=stale, **forms
            )
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._render(improvement_page(site=self.site, key=kwargs["key"]))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can_edit:
            raise PermissionDenied("Only the site's commissioners can decide on improvements.")
        key = kwargs["key"]
        page = improvement_page(site=self.site, key=key)
        title = page.item.title
        action = request.POST.get("action")
        form: BaseForm
        if action == "decision":
            form = DecisionForm(request.POST)
        elif action == "position":
            form = PositionForm(request.POST)
        elif action == "position-clear":
            form = PositionClearForm(request.POST)
        elif action == "pdsa":
            form = PdsaForm(request.POST)
        else:
            return HttpResponseBadRequest("Unknown action.")
        if not form.is_valid():
            return self._render(page, form, bound_name=FORM_NAMES[action])
        data = form.cleaned_data
        changes = form.changes() if isinstance(form, DecisionForm) else {"manual_rank": data.get("manual_rank")}
        try:
            if action == "pdsa":
                entry = services.pdsa_record(
                    site=self.site,
                    key=key,
                    user=self.acting_user,
                    source="page",
                    stage=data["stage"],
                    note=data["note"],
                    recorded_on=data["recorded_on"],
                )
                messages.success(request, f"The {entry.get_stage_display().lower()} step has been recorded.")
            else:
                decision = services.decision_update(
                    site=self.site,
                    key=key,
                    user=self.acting_user,
                    source="page",
                    changes=changes,
                    expected_version=data["version"],
                )
                if action == "decision":
                    message = f"Your decision on “{title}” has been saved: {decision.get_status_display()}."
                elif decision.manual_rank is not None:
                    message = f"“{title}” is now number {decision.manual_rank} in the list."
                else:
                    message = f"“{title}” now takes its place in the list by priority."
                messages.success(request, message)
        except StaleSave as error:
            notice = stale_notice(form, error, theirs=model_values(error.current, changes), yours=changes)
            page = improvement_page(site=self.site, key=key)
            return self._render(page, form, bound_name=FORM_NAMES[action], stale=notice)
        except ValidationError as error:
            add_service_errors(form, error)
            return self._render(page, form, bound_name=FORM_NAMES[action])
        return redirect("gaps:improvement", site_slug=self.site.slug, key=key)


class AssumptionsView(SiteScopedMixin, TemplateView):
    """The site's population and local assumptions; commissioners change them, others
    read them. Shows the prevalence figures staff keep in the admin."""

    template_name = "gaps/assumptions.html"
    nav = NAV

    def _render(
        self,
        inputs: SiteInputs,
        population_form: PopulationForm | None = None,
        assumptions_form: AssumptionsForm | None = None,
        stale: StaleNotice | None = None,
    ) -> HttpResponse:
        if population_form is None:
            population_form = PopulationForm(
                initial={**PopulationForm.values(inputs.population.people), "version": inputs.population.version}
            )
        if assumptions_form is None:
            assumptions_form = AssumptionsForm(
                initial={
                    **AssumptionsForm.values(inputs.assumptions, inputs.principles),
                    "version": inputs.assumptions.version,
                },
                principles=inputs.principles,
            )
        _add_defaults_to_hints(assumptions_form, inputs)
        return self.render_to_response(
            self.get_context_data(
                inputs=inputs,
                population_form=population_form,
                assumptions_form=assumptions_form,
                bound_form=next((f for f in (population_form, assumptions_form) if f.is_bound and f.errors), None),
                stale=stale,
            )
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._render(site_inputs(site=self.site))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.can_edit:
            raise PermissionDenied("Only the site's commissioners can change its assumptions.")
        inputs = site_inputs(site=self.site)
        action = request.POST.get("action")
        if action == "population":
            population_form = PopulationForm(request.POST)
            if not population_form.is_valid():
                return self._render(inputs, population_form=population_form)
            try:
                site_services.population_set(
                    site=self.site,
                    user=self.acting_user,
                    source="page",
                    people=population_form.people(),
                    expected_version=population_form.cleaned_data["version"],
                )
            except StaleSave as error:
                notice = stale_notice(population_form, error, theirs=PopulationForm.values(error.current.people))
                return self._render(site_inputs(site=self.site), population_form=population_form, stale=notice)
            except ValidationError as error:
                add_service_errors(
                    population_form,
                    ValidationError({PopulationForm.field_name(k): v for k, v in error.message_dict.items()}),
                )
                return self._render(inputs, population_form=population_form)
            messages.success(request, "The population has been saved. It is used from the next analysis.")
            return redirect("gaps:assumptions", site_slug=self.site.slug)
        if action == "assumptions":
            assumptions_form = AssumptionsForm(request.POST, principles=inputs.principles)
            if not assumptions_form.is_valid():
                return self._render(inputs, assumptions_form=assumptions_form)
            try:
                services.assumptions_update(
                    site=self.site,
                    user=self.acting_user,
                    source="page",
                    data=assumptions_form.assumptions_data(),
                    expected_version=assumptions_form.cleaned_data["version"],
                )
            except StaleSave as error:
                theirs = AssumptionsForm.values(error.current, inputs.principles)
                notice = stale_notice(assumptions_form, error, theirs=theirs)
                return self._render(site_inputs(site=self.site), assumptions_form=assumptions_form, stale=notice)
            except ValidationError as error:
                add_service_errors(assumptions_form, error, general_field=SPLIT_FIELDS[0])
                return self._render(inputs, assumptions_form=assumptions_form)
            messages.success(request, "The assumptions have been saved. They are used from the next analysis.")
            return redirect("gaps:assumptions", site_slug=self.site.slug)
        return HttpResponseBadRequest("Unknown action.")


def _add_defaults_to_hints(form: AssumptionsForm, inputs: SiteInputs) -> None:
    """Each assumption's hint says the project's default, so a changed value is a choice."""
    for name, default in inputs.defaults.items():
        field = form.fields[name]
        field.help_text = f"{field.help_text} Project default: {default}.".strip()
    for code, _ in inputs.principles:
        form.fields[AssumptionsForm.weight_name(code)].help_text = "Project default: 1."
