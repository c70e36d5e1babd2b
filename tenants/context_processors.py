from django.db import connection
from django_tenants.utils import get_public_schema_name

from tenants.middleware import _public_url


def workspace(request):
    tenant = getattr(request, "tenant", None)
    is_public = tenant is None or connection.schema_name == get_public_schema_name()
    return {"workspace": None if is_public else tenant, "public_url": _public_url()}
