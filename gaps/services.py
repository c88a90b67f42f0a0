"""Writes for the gap analysis: requesting runs, executing them, sweeping stuck ones,
and the site's decisions on improvement items.

A run row is the source of truth. Requests create it and enqueue its id only after
the transaction commits; execution is idempotent (a second delivery of a run that
already succeeded changes nothing, and results are written in one transaction
with the run marked succeeded); a sweeper re-enqueues runs left queued or whose
worker stopped sending heartbeats.
"""

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from accounts.models import User
from assessment.models import Principle
from sites.models import Site

from .engine import AnalysisResult, analyse
from .models import (
    AnalysisRun,
    DecisionStatus,
    Gap,
    Improvement,
    ImprovementDecision,
    PdsaEntry,
    PdsaStage,
    RunStatus,
    RunTrigger,
    SiteAssumptions,
)
from .selectors import analysis_inputs, inputs_snapshot, prevalence_figures

logger = logging.getLogger(__name__)

# A queued run not picked up for this long is enqueued again by the sweeper.
REQUEUE_QUEUED_AFTER = timedelta(seconds=settings.GAPS_REQUEUE_QUEUED_AFTER_SECONDS)
# A running run whose worker has sent no heartbeat for this long is presumed dead.
REQUEUE_RUNNING_AFTER = timedelta(seconds=settings.GAPS_REQUEUE_RUNNING_AFTER_SECONDS)
MAX_ATTEMPTS = 5
BROKER_DOWN_MESSAGE = (
    "The analysis is saved and queued, but the job service cannot be reached right now. "
    "It will start automatically when the service is back; you do not need to ask again."
)


@dataclass(frozen=True)
class RunRequest:
    run: AnalysisRun
    enqueued: bool
    message: str


def _enqueue(run_id: int) -> str:
    """Send the run's id to the broker. Returns an error message, or "" on success."""
    from .tasks import run_analysis

    try:
        run_analysis.apply_async(args=[run_id], retry=False)
    except (KombuOperationalError, OSError) as error:
        # The broker is unreachable: the run stays queued and the sweeper sends it later.
        logger.warning("Could not enqueue analysis run %s: %s", run_id, error)
        AnalysisRun.objects.filter(pk=run_id).update(enqueue_error=str(error)[:300])
        return BROKER_DOWN_MESSAGE
    AnalysisRun.objects.filter(pk=run_id).update(enqueued_at=timezone.now(), enqueue_error="")
    return ""


def run_request(*, site: Site, user: User | None, trigger: str) -> RunRequest:
    """Record a run for the site and enqueue it once the row is committed.

    A run already queued or running for the site is returned instead of a second one.
    """
    outcome: list[str] = []
    with transaction.atomic():
        Site.objects.select_for_update().filter(pk=site.pk).first()
        pending = AnalysisRun.objects.filter(site=site, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).first()
        if pending is not None:
            waiting_for_broker = pending.enqueued_at is None and bool(pending.enqueue_error)
            return RunRequest(
                run=pending,
                enqueued=not waiting_for_broker,
                message=BROKER_DOWN_MESSAGE
                if waiting_for_broker
                else "An analysis of this site is already in progress.",
            )
        run = AnalysisRun.objects.create(site=site, trigger=trigger, requested_by=user)
        transaction.on_commit(lambda: outcome.append(_enqueue(run.pk)))
    message = outcome[0] if outcome else ""
    run.refresh_from_db()
    return RunRequest(run=run, enqueued=not message, message=message or "The analysis has started.")


def runs_request_nightly() -> int:
    """Queue a run for every site (Celery beat, nightly)."""
    count = 0
    for site in Site.objects.order_by("pk"):
        run_request(site=site, user=None, trigger=RunTrigger.NIGHTLY)
        count += 1
    return count


def _claim(run_id: int) -> bool:
    """Mark the run as running for this attempt; False if it is already finished."""
    now = timezone.now()
    with transaction.atomic():
        run = AnalysisRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.is_finished:
            return False
        AnalysisRun.objects.filter(pk=run_id).update(
            status=RunStatus.RUNNING,
            started_at=now,
            heartbeat_at=now,
            attempts=run.attempts + 1,
            progress=5,
            progress_message="Reading the register",
            error="",
        )
    return True


def _progress(run_id: int, percent: int, message: str) -> None:
    AnalysisRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
        progress=percent, progress_message=message, heartbeat_at=timezone.now()
    )


def run_execute(*, run_id: int, today: date | None = None, pause: Callable[[], None] | None = None) -> None:
    """Carry out one run. Safe to call again for the same run, at any point.

    `pause` is called between steps; the integration tests use it to hold a run
    mid-way so a worker can be killed there.
    """
    if not _claim(run_id):
        logger.info("Analysis run %s is already finished; nothing to do", run_id)
        return
    run = AnalysisRun.objects.select_related("site").get(pk=run_id)
    try:
        inputs = analysis_inputs(site=run.site, today=today or timezone.localdate())
        snapshot = inputs_snapshot(inputs)
        # The survey behind each figure, so the run's page shows the wave, measure and
        # caveat the run used even after staff edit the prevalence table.
        snapshot["prevalence"] = [
            {
                "age_band": figure.age_band,
                "percent": str(figure.percent),
                "survey": figure.survey,
                "wave": figure.wave,
                "measure": figure.measure,
                "source_ages": figure.source_ages,
                "caveat": figure.caveat,
            }
            for figure in prevalence_figures()
        ]
        _progress(run_id, 40, "Comparing provision with need")
        if pause:
            pause()
        result = analyse(inputs)
        _progress(run_id, 80, "Saving gaps and improvements")
        if pause:
            pause()
        _store(run_id, result, snapshot)
    except Exception as error:
        if _is_transient(error):
            raise
        _fail(run_id, error)
        raise


def _is_transient(error: Exception) -> bool:
    from django.db import InterfaceError, OperationalError

    return isinstance(error, OperationalError | InterfaceError)


def _fail(run_id: int, error: Exception) -> None:
    AnalysisRun.objects.filter(pk=run_id).exclude(status=RunStatus.SUCCEEDED).update(
        status=RunStatus.FAILED,
        finished_at=timezone.now(),
        error=f"{type(error).__name__}: {error}\n\n{traceback.format_exc(limit=5)}"[:5000],
        progress_message="The analysis failed",
    )


def _store(run_id: int, result: AnalysisResult, snapshot: dict[str, Any]) -> None:
    """Write the results and mark the run succeeded in one transaction; a duplicate
    delivery that gets here second finds the run succeeded and writes nothing."""
    with transaction.atomic():
        run = AnalysisRun.objects.select_for_update().get(pk=run_id)
        if run.status == RunStatus.SUCCEEDED:
            return
        Gap.objects.filter(run=run).delete()
        Improvement.objects.filter(run=run).delete()
        Gap.objects.bulk_create(
            Gap(
                run=run,
                key=gap.key,
                kind=gap.kind,
                grouping=gap.grouping or "",
                age_band=gap.age_band or "",
                principle=gap.principle,
                severity=gap.severity,
                children_affected=gap.children_affected,
                numbers=gap.numbers,
                sentence=gap.sentence,
                data_quality=gap.data_quality,
                position=position,
            )
            for position, gap in enumerate(result.gaps, start=1)
        )
        Improvement.objects.bulk_create(
            Improvement(
                run=run,
                key=item.key,
                title=item.title,
                gap_keys=list(item.gap_keys),
                principle=item.principle,
                severity=item.severity,
                children_affected=item.children_affected,
                reach=item.reach,
                weight=item.weight,
                priority=item.priority,
                explanation=item.explanation,
                data_quality=item.data_quality,
                rank=rank,
            )
            for rank, item in enumerate(result.improvements, start=1)
        )
        previous = (
            AnalysisRun.objects.filter(site_id=run.site_id, status=RunStatus.SUCCEEDED)
            .exclude(pk=run.pk)
            .order_by("-finished_at", "-pk")
            .first()
        )
        snapshot["need_by_grouping"] = result.need_by_grouping
        snapshot["capacity_by_grouping"] = result.capacity_by_grouping
        AnalysisRun.objects.filter(pk=run.pk).update(
            status=RunStatus.SUCCEEDED,
            progress=100,
            progress_message="Finished",
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
            inputs=snapshot,
            previous=previous,
        )


def runs_sweep(*, now: Any = None) -> list[int]:
    """Re-enqueue runs the broker lost: queued and not started in time, or running
    with no heartbeat from their worker. Runs that keep failing are marked failed."""
    now = now or timezone.now()
    stuck = AnalysisRun.objects.filter(
        Q(status=RunStatus.QUEUED, created_at__lt=now - REQUEUE_QUEUED_AFTER)
        & (Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - REQUEUE_QUEUED_AFTER))
        | Q(status=RunStatus.RUNNING, heartbeat_at__lt=now - REQUEUE_RUNNING_AFTER)
    )
    requeued = []
    for run in stuck.order_by("created_at"):
        if run.attempts >= MAX_ATTEMPTS:
            AnalysisRun.objects.filter(pk=run.pk).update(
                status=RunStatus.FAILED,
                finished_at=now,
                error=f"Gave up after {run.attempts} attempts without finishing.",
            )
            continue
        AnalysisRun.objects.filter(pk=run.pk, status=run.status).update(
            status=RunStatus.QUEUED, progress=0, progress_message="Waiting to start again"
        )
        if not _enqueue(run.pk):
            requeued.append(run.pk)
    return requeued


# Assumptions and decisions --------------------------------------------------------------


SPLIT_FIELDS = ("advice_percent", "help_percent", "more_help_percent", "risk_percent")


def assumptions_update(*, site: Site, user: User | None, data: dict[str, Any]) -> SiteAssumptions:
    shares = {name: Decimal(str(data[name])) for name in SPLIT_FIELDS}
    for name, share in shares.items():
        if not 0 <= share <= 100:
            raise ValidationError({name: "Enter a share from 0 to 100."})
    split_total = sum(shares.values(), Decimal(0))
    if split_total != 100:
        shown = f"{split_total.normalize():f}"
        raise ValidationError(
            {"__all__": f"The shares of need across the four help groupings add up to {shown}%. Make them 100%."}
        )
    known = set(Principle.objects.values_list("code", flat=True))
    for code, weight in (data.get("principle_weights") or {}).items():
        if known and code not in known:
            raise ValidationError({"principle_weights": f"There is no THRIVE principle with the code {code!r}."})
        if not 0 <= Decimal(str(weight)) <= 3:
            raise ValidationError({"principle_weights": f"The weight for {code} must be from 0 to 3."})
    assumptions, _ = SiteAssumptions.objects.get_or_create(site=site)
    for name, value in data.items():
        setattr(assumptions, name, value)
    assumptions.updated_by = user
    assumptions.full_clean(exclude=["site"])
    assumptions.save()
    return assumptions


def _decision(site: Site, key: str) -> ImprovementDecision:
    decision, _ = ImprovementDecision.objects.get_or_create(site=site, key=key)
    return decision


def decision_update(
    *,
    site: Site,
    key: str,
    user: User | None,
    status: str | None = None,
    dismiss_reason: str | None = None,
    owner: str | None = None,
    due_on: date | None = None,
    manual_rank: int | None = None,
    clear_rank: bool = False,
    clear_due_on: bool = False,
) -> ImprovementDecision:
    if status is not None and status not in DecisionStatus.values:
        raise ValidationError({"status": "Choose accept, dismiss or not yet decided."})
    if status == DecisionStatus.DISMISSED and not (dismiss_reason or "").strip():
        raise ValidationError({"dismiss_reason": "Say why the improvement is dismissed."})
    if manual_rank is not None and manual_rank < 1:
        raise ValidationError({"manual_rank": "Enter a position of 1 or more."})
    with transaction.atomic():
        decision = _decision(site, key)
        if status is not None:
            decision.status = status
            decision.dismiss_reason = (dismiss_reason or "").strip() if status == DecisionStatus.DISMISSED else ""
        if owner is not None:
            decision.owner = owner.strip()
        if due_on is not None:
            decision.due_on = due_on
        if clear_due_on:
            decision.due_on = None
        if manual_rank is not None:
            decision.manual_rank = manual_rank
        if clear_rank:
            decision.manual_rank = None
        decision.updated_by = user
        decision.save()
    return decision


def pdsa_record(*, site: Site, key: str, user: User | None, stage: str, note: str, recorded_on: date) -> PdsaEntry:
    if stage not in PdsaStage.values:
        raise ValidationError({"stage": "Choose plan, do, study or act."})
    if not note.strip():
        raise ValidationError({"note": "Describe what happened in this step."})
    return PdsaEntry.objects.create(
        decision=_decision(site, key), stage=stage, note=note.strip(), recorded_on=recorded_on, recorded_by=user
    )
