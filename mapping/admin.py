from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Area, DeliverySetting, Grouping, Offer, Organisation, ReferralRoute, Service


@admin.register(Grouping)
class GroupingAdmin(admin.ModelAdmin):
    """Labels can follow local wording; codes and order stay fixed."""

    list_display = ("order", "label", "short_label", "code")
    readonly_fields = ("code", "order")


@admin.register(DeliverySetting, ReferralRoute)
class ReferenceListAdmin(admin.ModelAdmin):
    list_display = ("label", "code", "order")
    ordering = ("order",)


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ("name", "site")
    list_filter = ("site",)
    search_fields = ("name",)


@admin.register(Organisation)
class OrganisationAdmin(SimpleHistoryAdmin):
    list_display = ("name", "site", "sector")
    list_filter = ("site", "sector")
    search_fields = ("name",)


class OfferInline(admin.TabularInline):
    model = Offer
    extra = 0


@admin.register(Service)
class ServiceAdmin(SimpleHistoryAdmin):
    list_display = ("name", "site", "organisation", "sector", "status", "last_checked_on", "archived_at")
    list_filter = ("site", "sector", "status")
    search_fields = ("name", "organisation__name")
    list_select_related = ("site", "organisation")
    raw_id_fields = ("organisation", "last_checked_by")
    inlines = [OfferInline]
