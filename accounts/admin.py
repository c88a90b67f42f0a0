from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from sites.models import Membership

from .models import User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["site"]


@admin.register(User)
class ThriveUserAdmin(UserAdmin):
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("THRIVE Mapper", {"fields": ("is_programme_reviewer",)}),
    )
    list_display = ("username", "email", "first_name", "last_name", "is_programme_reviewer", "is_staff")
    list_filter = ("is_programme_reviewer", "is_staff", "is_superuser", "is_active")
    inlines = [MembershipInline]
