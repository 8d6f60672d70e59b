from django.contrib import admin

from products.models import Product, ProductVersion


class ProductVersionInline(admin.TabularInline):
    model = ProductVersion
    extra = 0
    can_delete = False
    fields = ("version", "change", "status", "reasons", "actor", "actor_kind", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    """Read-only: changes go through the API so that rules, versions and (later) replication apply."""

    list_display = ("code", "name", "exchange", "status", "version", "product_form", "industry", "updated_at")
    list_filter = ("status", "exchange", "product_form", "industry")
    search_fields = ("code", "name", "provider_name", "provider_uscc")
    inlines = [ProductVersionInline]

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("exchange")
        if request.user.is_superuser:
            return qs
        return qs.filter(exchange_id=request.user.exchange_id)

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
