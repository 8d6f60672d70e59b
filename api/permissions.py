from rest_framework import permissions

from products.permissions import authorize_write


class ProductWrite(permissions.BasePermission):
    """Reads follow the visible queryset; writes need an operator of the product's home exchange."""

    anonymous_reads = True  # api/schema.py: `security` includes `{}` for GET

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj):
        if request.method in permissions.SAFE_METHODS:
            return True
        authorize_write(
            actor=request.user, exchange_id=obj.exchange_id, provider=obj.provider_uscc
        )  # raises 403 naming the owner
        return True
