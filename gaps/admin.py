from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import AnalysisRun, ImprovementDecision, PdsaEntry, PrevalenceFigure, SiteAssumptions


@admin.register(PrevalenceFigure)
class PrevalenceFigureAdmin(admin.ModelAdmin):
    """Staff keep the prevalence table here; each run keeps a copy of what it used."""

    list_display = ("age_band", "percent", "wave", "measure", "source_ages")
    fields = ("age_band", "percent", "survey", "wave", "measure", "source_ages", "caveat")


@admin.register(SiteAssumptions)
class SiteAssumptionsAdmin(admin.ModelAdmin):
    list_display = (
        "site",
        "thriving_percent",
        "advice_percent",
        "help_percent",
        "more_help_percent",
        "risk_percent",
        "max_wait_weeks",
        "updated_at",
    )
    list_select_related = ("site",)
    search_fields = ("site__name",)
    raw_id_fields = ("updated_by",)
    readonly_fields = ("updated_at",)


@admin.register(AnalysisRun)
class AnalysisRunAdmin(admin.ModelAdmin):
    """Read-only: a run is the record of what happened, and its results never change."""

    list_display = ("created_at", "site", "status", "progress", "trigger", "requested_by", "attempts", "finished_at")
    list_filter = ("status", "trigger", "site")
    list_select_related = ("site", "requested_by")
    search_fields = ("site__name", "public_id")
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in AnalysisRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PdsaEntryInline(admin.TabularInline):
    model = PdsaEntry
    extra = 0
    fields = ("stage", "recorded_on", "note", "recorded_by")
    raw_id_fields = ("recorded_by",)


@admin.register(ImprovementDecision)
class ImprovementDecisionAdmin(admin.ModelAdmin):
    list_display = ("key", "site", "status", "owner", "due_on", "manual_rank", "updated_at")
    list_filter = ("status", "site")
    list_select_related = ("site",)
    search_fields = ("key", "owner", "site__name")
    raw_id_fields = ("updated_by",)
    readonly_fields = ("updated_at",)
    inlines = [PdsaEntryInline]
