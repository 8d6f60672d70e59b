from django.contrib import admin

from federation.models import Peer, QuarantinedEntry, SyncState, Wakeup


@admin.register(Peer)
class PeerAdmin(admin.ModelAdmin):
    """The peer directory. Changing a key or URL here is what `manage.py peers add` does."""

    list_display = (
        "exchange",
        "base_url",
        "enabled",
        "consecutive_failures",
        "backoff_until",
        "last_success_at",
    )
    list_filter = ("enabled",)
    readonly_fields = (
        "consecutive_failures",
        "backoff_until",
        "last_success_at",
        "last_error",
        "last_error_at",
        "created_at",
    )


@admin.register(SyncState)
class SyncStateAdmin(admin.ModelAdmin):
    list_display = (
        "origin",
        "cursor",
        "head_seen",
        "state",
        "last_success_at",
        "last_source",
        "last_error_at",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Wakeup)
class WakeupAdmin(admin.ModelAdmin):
    list_display = ("peer", "origin", "seq", "state", "attempts", "next_attempt_at")
    list_filter = ("state", "peer")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(QuarantinedEntry)
class QuarantinedEntryAdmin(admin.ModelAdmin):
    list_display = ("origin", "seq", "source", "record_type", "gid", "reason", "created_at")
    list_filter = ("origin", "source", "record_type")
    search_fields = ("gid", "reason")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
