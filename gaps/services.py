"""Writes for the gap analysis: requesting runs, executing them, recovering stuck ones,
and the site's decisions, assumptions and PDSA steps.

A run row is the source of truth. Requests create it and enqueue its id only after
the transaction commits; execution is idempotent (a second delivery of a run that
already succeeded changes nothing, and results are written in one transaction
with the run marked succeeded). A run the broker lost, or whose worker or server
died, is sent again: by the sweeper every minute under Celery beat, and for a site
whenever that site asks about its runs (runs_recover), so nothing stays stuck in
the embedded mode either, where there is no beat.

Every change to a decision, the assumptions or the population checks the version
the person read under a row lock (core.versioning), stamps who made it and how
(core.history) and saves instances, so each change leaves a history record.
"""

import logging
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from accounts.models import User
from assessment.selectors import principle_labels
from core.history import Source, stamp
from core.limits import DISMISS_REASON, DUE_DATE, MANUAL_RANK, OWNER, PDSA_DATE, PDSA_NOTE
from core.versioning import StaleSave, check_version, stale_message
from sites.models import Site

from .engine import AnalysisResult, analyse
from .models import (
    ASSUMPTION_LIMITS,
    NEED_SPLIT_FIELDS,
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
    principle_weight_limit,
)
from .selectors import analysis_inputs, prevalence_used
from .snapshot import RunInputs

logger = logging.getLogger(__name__)

# The run task's time limits (gaps.tasks): no attempt of a run is still working after
# RUN_TIME_LIMIT_SECONDS, so a heartbeat older than that means the attempt is dead.
RUN_SOFT_TIME_LIMIT_SECONDS = 120
RUN_TIME_LIMIT_SECONDS = 150
# A queued run not picked up for this long is enqueued again.
REQUEUE_QUEUED_AFTER = timedelta(seconds=settings.GAPS_REQUEUE_QUEUED_AFTER_SECONDS)
# A running run whose worker has sent no heartbeat for this long is presumed dead. It
# must be longer than the run's time limit, or a live run could be taken for dead.
REQUEUE_RUNNING_AFTER = timedelta(seconds=settings.GAPS_REQUEUE_RUNNING_AFTER_SECONDS)
if REQUEUE_RUNNING_AFTER.total_seconds() <= RUN_TIME_LIMIT_SECONDS:
    raise ImproperlyConfigured(
        f"GAPS_REQUEUE_RUNNING_AFTER_SECONDS must be more than a run's time limit ({RUN_TIME_LIMIT_SECONDS} s)."
    )
MAX_ATTEMPTS = 5
BROKER_DOWN_MESSAGE = (
    "The analysis is saved and queued, but the job service cannot be reached right now. "
    "It will start automatically when the service is back; you do not need to ask again."
)
STARTED_MESSAGE = "The gap analysis has started. Its progress is shown below."
FINISHED_MESSAGE = "The gap analysis has finished. Its results are shown below."
FAILED_MESSAGE = "The gap analysis did not finish. What stopped it is shown below."
IN_PROGRESS_MESSAGE = "An analysis of this site is already in progress."


@dataclass(frozen=True)
class RunRequest:
    run: AnalysisRun
    # This request made the run. Decided under the site's row lock, so of any number
    # of simultaneous requests exactly one is told so.
    created: bool
    # False when the job service could not be reached: the run waits for the sweeper.
    enqueued: bool
    # What happened, in words for the person who asked, as things stand after the
    # request (in the embedded mode a new run has already finished by then).
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


def _message(run: AnalysisRun, *, created: bool) -> str:
    if run.enqueued_at is None and run.enqueue_error and not run.is_finished:
        return BROKER_DOWN_MESSAGE
    if run.status == RunStatus.SUCCEEDED:
        return FINISHED_MESSAGE
    if run.status == RunStatus.FAILED:
        return FAILED_MESSAGE
    return STARTED_MESSAGE if created else IN_PROGRESS_MESSAGE


def run_request(*, site: Site, user: User | None, trigger: str) -> RunRequest:
    """Record a run for the site and enqueue it once the row is committed.

    A run already queued or running for the site is returned instead of a second one
    (after recovering it if it is stuck). Whether this request made the run is
    decided under the site's row lock, never guessed afterwards.
    """
    with transaction.atomic():
        Site.objects.select_for_update().filter(pk=site.pk).first()
        requeued = _requeue_stuck(AnalysisRun.objects.filter(site=site), now=timezone.now())
        pending = AnalysisRun.objects.filter(site=site, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).first()
        created = pending is None
        run = pending or AnalysisRun.objects.create(site=site, trigger=trigger, requested_by=user)
        for run_id in requeued:
            transaction.on_commit(partial(_enqueue, run_id))
        if created:
            transaction.on_commit(lambda: _enqueue(run.pk))
    run.refresh_from_db()
    return RunRequest(
        run=run,
        created=created,
        enqueued=not (run.enqueued_at is None and run.enqueue_error),
        message=_message(run, created=created),
    )


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
        # The survey behind each figure, so the run's page shows the wave, measure and
        # caveat the run used even after staff edit the prevalence table.
        prevalence = prevalence_used()
        _progress(run_id, 40, "Comparing provision with need")
        if pause:
            pause()
        result = analyse(inputs)
        used = RunInputs.from_analysis(inputs, result, prevalence=prevalence)
        _progress(run_id, 80, "Saving gaps and improvements")
        if pause:
            pause()
        _store(run_id, result, used)
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


def _store(run_id: int, result: AnalysisResult, used: RunInputs) -> None:
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
        AnalysisRun.objects.filter(pk=run.pk).update(
            status=RunStatus.SUCCEEDED,
            progress=100,
            progress_message="Finished",
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
            inputs=used.to_json(),
            previous=previous,
        )


def _stuck(now: datetime) -> Q:
    """Runs the broker lost (queued and not started in time) or whose worker or
    server died (running with no heartbeat for longer than a run can take)."""
    return Q(status=RunStatus.QUEUED, created_at__lt=now - REQUEUE_QUEUED_AFTER) & (
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - REQUEUE_QUEUED_AFTER)
    ) | Q(status=RunStatus.RUNNING, heartbeat_at__lt=now - REQUEUE_RUNNING_AFTER)


def _requeue_stuck(runs: QuerySet[AnalysisRun], *, now: datetime) -> list[int]:
    """Put stuck runs back in the queue, or fail those that used up their attempts.
    Returns the ids to enqueue once the caller's transaction commits. A run another
    process holds locked (a worker saving its results) is alive and skipped."""
    requeued = []
    with transaction.atomic():
        for run in runs.filter(_stuck(now)).select_for_update(skip_locked=True).order_by("created_at"):
            if run.attempts >= MAX_ATTEMPTS:
                run.status = RunStatus.FAILED
                run.finished_at = now
                run.error = f"Gave up after {run.attempts} attempts without finishing."
                run.progress_message = "The analysis failed"
                run.save(update_fields=["status", "finished_at", "error", "progress_message"])
                continue
            run.status = RunStatus.QUEUED
            run.progress = 0
            run.progress_message = "Waiting to start again"
            run.save(update_fields=["status", "progress", "progress_message"])
            requeued.append(run.pk)
    return requeued


def runs_sweep(*, now: datetime | None = None) -> list[int]:
    """Re-enqueue every site's stuck runs (Celery beat, every minute). Returns the ids
    sent to the broker; runs that keep failing are marked failed."""
    requeued = _requeue_stuck(AnalysisRun.objects.all(), now=now or timezone.now())
    return [run_id for run_id in requeued if not _enqueue(run_id)]


def runs_recover(*, site: Site, now: datetime | None = None) -> list[int]:
    """The sweeper for one site, run whenever the site asks about its runs (its gap
    analysis pages, the run API), so a run left stuck by a server killed mid-run is
    sent again, or failed, even where there is no beat. In the embedded mode the
    run is carried out there and then."""
    requeued = _requeue_stuck(AnalysisRun.objects.filter(site=site), now=now or timezone.now())
    return [run_id for run_id in requeued if not _enqueue(run_id)]


# Assumptions, decisions and PDSA steps ---------------------------------------------------


def _save_new_or_stale(instance: models.Model, *, reread: Callable[[], Any], thing: str) -> None:
    """Insert a row made on first save. Two people saving the first version at once
    both found nothing to lock; the second insert breaks the unique constraint and is
    refused as stale, with the row the first one made."""
    try:
        with transaction.atomic():
            instance.save(force_insert=True)
    except IntegrityError:
        current = reread()
        if current is None:
            raise
        raise StaleSave(stale_message(thing=thing, current=current), current=current, version=current.version) from None


ASSUMPTIONS = "site's assumptions"
SPLIT_DOES_NOT_ADD_UP = "The shares of need across the four help groupings add up to {total}%. Make them 100%."


def _assumption_errors(data: Mapping[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, limit in ASSUMPTION_LIMITS.items():
        value = data.get(name)
        if value is None:
            errors[name] = [limit.messages()["required"]]
            continue
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            errors[name] = [limit.messages(whole=False)["invalid"]]
            continue
        if limit.errors(number):
            errors[name] = limit.errors(number)
    if not errors:
        total = sum((Decimal(str(data[name])) for name in NEED_SPLIT_FIELDS), Decimal(0))
        if total != 100:
            errors["__all__"] = [SPLIT_DOES_NOT_ADD_UP.format(total=f"{total.normalize():f}")]
    labels = principle_labels()
    for code, weight in (data.get("principle_weights") or {}).items():
        if code not in labels:
            errors.setdefault("principle_weights", []).append(f"There is no THRIVE principle with the code {code!r}.")
            continue
        limit = principle_weight_limit(labels[code])
        try:
            problems = limit.errors(Decimal(str(weight)))
        except InvalidOperation:
            problems = [limit.messages(whole=False)["invalid"]]
        if problems:
            errors.setdefault("principle_weights", []).extend(problems)
    return errors


def assumptions_update(
    *, site: Site, user: User | None, source: Source, data: Mapping[str, Any], expected_version: int | None
) -> SiteAssumptions:
    """Replace the site's assumptions: every value in ASSUMPTION_LIMITS, and the
    principle weights (a principle left out weighs 1). Refused (StaleSave) unless
    `expected_version` is the version now (0 while the site uses the defaults)."""
    errors = _assumption_errors(data)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = SiteAssumptions.objects.select_for_update().filter(site=site).first()
        version = check_version(expected=expected_version, current=current, thing=ASSUMPTIONS)
        assumptions = current or SiteAssumptions(site=site)
        for name in ASSUMPTION_LIMITS:
            setattr(assumptions, name, data[name])
        # Stored as JSON numbers; the analysis reads them back as decimals.
        assumptions.principle_weights = {
            code: float(Decimal(str(weight))) for code, weight in (data.get("principle_weights") or {}).items()
        }
        assumptions.version = version
        assumptions.updated_by = user
        assumptions.full_clean(exclude=["site"])
        stamp(assumptions, user=user, source=source)
        if current is None:
            _save_new_or_stale(
                assumptions, reread=lambda: SiteAssumptions.objects.filter(site=site).first(), thing=ASSUMPTIONS
            )
        else:
            assumptions.save()
    return assumptions


DECISION = "decision"
DECISION_FIELDS = ("status", "dismiss_reason", "owner", "due_on", "manual_rank")
DISMISS_REASON_NEEDED = "Say why the improvement is dismissed."


def _decision_errors(changes: Mapping[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if "status" in changes and changes["status"] not in DecisionStatus.values:
        errors["status"] = ["Choose accept, dismiss or not yet decided."]
    checks = [
        ("dismiss_reason", DISMISS_REASON.errors(changes.get("dismiss_reason"))),
        ("owner", OWNER.errors(changes.get("owner"))),
        ("due_on", DUE_DATE.errors(changes.get("due_on"))),
        ("manual_rank", MANUAL_RANK.errors(changes.get("manual_rank"))),
    ]
    for name, problems in checks:
        if problems:
            errors[name] = problems
    return errors


def _decision_locked(site: Site, key: str) -> ImprovementDecision | None:
    return ImprovementDecision.objects.select_for_update().filter(site=site, key=key).first()


def decision_update(
    *,
    site: Site,
    key: str,
    user: User | None,
    source: Source,
    changes: Mapping[str, Any],
    expected_version: int | None,
) -> ImprovementDecision:
    """Change the site's decision on an improvement. Only the fields in `changes`
    change (DECISION_FIELDS); None clears the owner, the due date or the position.
    Dismissing needs a reason, which is kept only while the item is dismissed.
    Refused (StaleSave) unless `expected_version` is the version now (0 while
    nobody has decided)."""
    unknown = set(changes) - set(DECISION_FIELDS)
    if unknown:
        raise ValueError(f"Not a field of a decision: {', '.join(sorted(unknown))}")
    errors = _decision_errors(changes)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        current = _decision_locked(site, key)
        version = check_version(expected=expected_version, current=current, thing=DECISION)
        decision = current or ImprovementDecision(site=site, key=key)
        status = changes.get("status") or decision.status
        reason = changes.get("dismiss_reason", decision.dismiss_reason)
        reason = (reason or "").strip()
        if status == DecisionStatus.DISMISSED and not reason:
            raise ValidationError({"dismiss_reason": DISMISS_REASON_NEEDED})
        decision.status = status
        decision.dismiss_reason = reason if status == DecisionStatus.DISMISSED else ""
        if "owner" in changes:
            decision.owner = (changes["owner"] or "").strip()
        if "due_on" in changes:
            decision.due_on = changes["due_on"]
        if "manual_rank" in changes:
            decision.manual_rank = changes["manual_rank"]
        decision.version = version
        decision.updated_by = user
        stamp(decision, user=user, source=source)
        if current is None:
            _save_new_or_stale(decision, reread=lambda: _decision_locked(site, key), thing=DECISION)
        else:
            decision.save()
    return decision


def pdsa_record(
    *, site: Site, key: str, user: User | None, source: Source, stage: str, note: str, recorded_on: date
) -> PdsaEntry:
    """Record a plan-do-study-act step against an improvement. Steps are only ever
    added, so two people recording at once never overwrite each other, and a step
    does not change the decision's version."""
    errors: dict[str, list[str]] = {}
    if stage not in PdsaStage.values:
        errors["stage"] = ["Choose plan, do, study or act."]
    if not note.strip():
        errors["note"] = ["Describe what happened in this step."]
    elif PDSA_NOTE.errors(note.strip()):
        errors["note"] = PDSA_NOTE.errors(note.strip())
    if PDSA_DATE.errors(recorded_on):
        errors["recorded_on"] = PDSA_DATE.errors(recorded_on)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        decision = _decision_locked(site, key)
        if decision is None:
            # The steps hang off the site's decision; one made only to hold them stays
            # at version 0, "nobody has decided yet", so a decision form opened before
            # is not refused as stale.
            decision = ImprovementDecision(site=site, key=key, version=0)
            stamp(decision, user=user, source=source)
            try:
                with transaction.atomic():
                    decision.save(force_insert=True)
            except IntegrityError:
                decision = ImprovementDecision.objects.get(site=site, key=key)
        entry = PdsaEntry(decision=decision, stage=stage, note=note.strip(), recorded_on=recorded_on, recorded_by=user)
        stamp(entry, user=user, source=source)
        entry.save()
    return entry
