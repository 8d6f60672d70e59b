from django.contrib import admin

from demands.models import Demand, WebhookDelivery, WebhookSubscription


@admin.register(Demand)
class DemandAdmin(admin.ModelAdmin):
    """Read-only: demands change through the API (rules, versions, replication)."""

    list_display = ("gid", "title", "origin", "demander_name", "status", "deadline", "version")
    list_filter = ("status", "origin", "industry")
    search_fields = ("gid", "title", "demander_id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    extra = 0
    can_delete = False
    fields = (
        "notification",
        "state",
        "attempts",
        "last_status",
        "last_error",
        "next_attempt_at",
        "delivered_at",
    )
    readonly_fields = fields


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    """An operator may allow a subscription's URL on a private network (e.g. an exchange's internal system)
    or switch a subscription off; nothing else is editable here."""

    list_display = ("participant_id", "url", "active", "allow_private_network", "created_at")
    list_filter = ("active", "allow_private_network")
    search_fields = ("participant_id", "url")
    fields = ("participant_id", "url", "active", "allow_private_network", "created_at")
    readonly_fields = ("participant_id", "url", "created_at")
    inlines = [DeliveryInline]

    def has_add_permission(self, request):
        return False
