from django.contrib import admin

from mapping.models import Area

from .models import Membership, Site, SitePopulation


class PopulationInline(admin.TabularInline):
    model = SitePopulation
    extra = 0


class AreaInline(admin.TabularInline):
    model = Area
    extra = 1


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ("name", "region", "slug")
    search_fields = ("name", "region")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [PopulationInline, AreaInline, MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "site", "role")
    list_filter = ("role", "site")
    search_fields = ("user__username", "user__email", "site__name")
    autocomplete_fields = ["user", "site"]
