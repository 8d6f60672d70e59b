from django.contrib import admin

from participants.models import Evaluation, Participant, StatusChange


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    extra = 0
    can_delete = False
    fields = ("from_status", "to_status", "reason", "actor", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class _ReadOnly(admin.ModelAdmin):
    """Read-only: changes go through the API so that the rules, versions and replication apply."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff


@admin.register(Participant)
class ParticipantAdmin(_ReadOnly):
    list_display = ("participant_id", "legal_name", "home", "status", "duplicate_of", "version", "updated_at")
    list_filter = ("status", "home", "entity_type")
    search_fields = ("participant_id", "legal_name")
    inlines = [StatusChangeInline]

    def get_queryset(self, request):
        """Every node's admin lists every registration it holds (they are public); private fields are not
        shown here at all (the API shows them to those allowed)."""
        return super().get_queryset(request).select_related("home")


@admin.register(Evaluation)
class EvaluationAdmin(_ReadOnly):
    list_display = ("gid", "subject_id", "dimension", "grade", "issuer_id", "status", "valid_until")
    list_filter = ("dimension", "status", "issuer_type", "origin")
    search_fields = ("gid", "subject_id", "issuer_id")
