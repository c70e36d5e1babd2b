from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from tenants.accounts.selectors import api_key_get_active, api_key_is_well_formed
from tenants.accounts.services import api_key_touch


class ApiKeyPrincipal:
    """Who a request made with an API key acts as: the key, with the key's role."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, api_key):
        self.api_key = api_key
        self.role = api_key.role
        self.pk = None

    def __str__(self):
        return f"API key {self.api_key.name}"

    def has_role(self, minimum: str) -> bool:
        from tenants.accounts.models import role_at_least

        return role_at_least(self.role, minimum)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        raw = raw.strip()
        if not api_key_is_well_formed(raw):
            raise exceptions.AuthenticationFailed(
                "Malformed API key: send 'Authorization: Bearer pulse_<8 hex>_<43 characters>', "
                "exactly as it was shown when the key was created."
            )
        api_key = api_key_get_active(raw=raw)
        if api_key is None:
            # Same answer for revoked keys and keys of other workspaces: reveal nothing.
            raise exceptions.AuthenticationFailed("Invalid or revoked API key for this workspace.")
        api_key_touch(api_key=api_key)
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.accounts.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A workspace API key: `Bearer pulse_…`"}


def request_member(request):
    """The signed-in member making ``request``, or None when an API key makes it: a key
    is no user, so what it creates has no author and what it acknowledges no acknowledger."""
    from tenants.accounts.models import User

    return request.user if isinstance(request.user, User) else None
