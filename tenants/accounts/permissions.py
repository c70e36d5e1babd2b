from django.db import connection
from django_tenants.utils import get_public_schema_name
from rest_framework import permissions

from tenants.accounts.models import Role


class IsWorkspaceMember(permissions.BasePermission):
    """Signed-in member (or API key) of the workspace whose host was called."""

    minimum_role = Role.VIEWER
    message = "Authentication with a key or session of this workspace is required."

    def has_permission(self, request, view):
        if connection.schema_name == get_public_schema_name():
            return False
        user = request.user
        if not (user and user.is_authenticated):
            return False
        minimum = getattr(view, "required_roles", {}).get(request.method, getattr(view, "minimum_role", self.minimum_role))
        if not user.has_role(minimum):
            self.message = f"This needs the {Role(minimum).label.lower()} role."
            return False
        return True
