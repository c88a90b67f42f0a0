"""A finished gap analysis for each demo site, run in-process when the demo loads so
the gap pages have results in a first look."""

from accounts.models import User
from sites.models import Site

from .models import AnalysisRun, RunTrigger
from .services import run_execute


def demo_run_load(*, site: Site, user: User) -> AnalysisRun:
    run = AnalysisRun.objects.create(site=site, trigger=RunTrigger.DEMO, requested_by=user)
    run_execute(run_id=run.pk)
    run.refresh_from_db()
    return run
