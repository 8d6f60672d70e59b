from django.contrib import admin

from federation.models import Peer, PrivateFetch, QuarantinedEntry, QuarantineOverflow, SyncState, Wakeup


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
    list_display = (
        "origin",
        "seq",
        "source",
        "record_type",
        "gid",
        "reason",
        "count",
        "raw_bytes",
        "created_at",
        "last_seen",
    )
    list_filter = ("origin", "source", "record_type")
    search_fields = ("gid", "reason", "digest")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(QuarantineOverflow)
class QuarantineOverflowAdmin(admin.ModelAdmin):
    """Sources whose refused entries went beyond the quarantine bounds; delete a row once handled."""

    list_display = ("source", "entries", "first_at", "last_at", "logged_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PrivateFetch)
class PrivateFetchAdmin(admin.ModelAdmin):
    """Private records this node is in the audience of and is fetching (retried with backoff)."""

    list_display = (
        "origin",
        "record_type",
        "gid",
        "version",
        "state",
        "attempts",
        "next_attempt_at",
        "last_error",
    )
    list_filter = ("state", "origin", "record_type")
    search_fields = ("gid",)
    readonly_fields = [f.name for f in PrivateFetch._meta.fields]

    def has_add_permission(self, request):
        return False
