from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import ApiToken, User


@admin.register(User)
class OperatorAdmin(UserAdmin):
    list_display = ("username", "role", "exchange", "is_active", "last_login")
    list_filter = ("role", "exchange", "is_active")
    fieldsets = (*UserAdmin.fieldsets, ("Exchange", {"fields": ("role", "exchange")}))
    add_fieldsets = (*UserAdmin.add_fieldsets, ("Exchange", {"fields": ("role", "exchange")}))


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "expires_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at")
    list_filter = ("revoked_at",)
