"""Issue #15: a NUL byte in any query parameter, form field or path — on every page and
endpoint of both URL confs, signed in or not (the public survey pages /p/, /s/, /u/
above all) — is refused with a 400 naming the field, and nothing stored changes.

The routes come from the URL confs (tests/security/pages.py), so a new page is covered."""
import pytest
from django.test import Client

from tests.helpers import BROWSER_AGENT, host_client
from tests.security.helpers import stored_fingerprint
from tests.security.pages import html_pages, public_pages

NUL_MESSAGE = "contains a NUL character (U+0000), which cannot be stored."
PUBLIC = ("/p/", "/s/", "/u/")


def _refused(response, field: str) -> bool:
    text = response.content.decode()
    if response.status_code != 400:
        return False
    if response["Content-Type"].startswith("application/json"):
        return response.json()["errors"] == {field: [f"The field “{field}” {NUL_MESSAGE}"]}
    return f"The field “{field}” {NUL_MESSAGE}" in text.replace("&ldquo;", "“").replace("&rdquo;", "”")


def _check_every_page(client, pages, workspace=None):
    before = stored_fingerprint(workspace) if workspace else None
    problems = []
    for path in pages:
        for method, field, send in (
            ("GET", "q", lambda p: client.get(p, {"q": "a\x00b"})),
            ("GET", "page", lambda p: client.get(p, {"page": "\x00"})),
            ("POST", "name", lambda p: client.post(p, {"name": "Lo\x00op", "email": "x@y.test"})),
            ("POST", "we\\x00ird", lambda p: client.post(p, {"we\x00ird": "1"})),
        ):
            response = send(path)
            if not _refused(response, field):
                problems.append((method, path, field, response.status_code, response.content[:120]))
    assert problems == []
    if workspace:
        assert stored_fingerprint(workspace) == before


def test_every_workspace_page_refuses_a_nul_as_the_team_lead(workspace, lead):
    _check_every_page(lead, html_pages(workspace), workspace)


def test_every_workspace_page_refuses_a_nul_signed_out(workspace):
    pages = html_pages(workspace)
    assert len([p for p in pages if p.startswith(PUBLIC)]) >= 6  # the customers' pages are in the walk
    _check_every_page(host_client(workspace), pages, workspace)


def test_every_public_site_page_refuses_a_nul(db):
    _check_every_page(Client(HTTP_HOST="localhost", HTTP_USER_AGENT=BROWSER_AGENT), list(public_pages().values()))


def test_a_nul_in_the_path_is_refused(workspace, lead):
    for path in ("/s/abc%00def", "/p/x%00", "/u/%00", "/data/conv%00/", "/api/v1/kpis/n%00ps"):
        response = lead.get(path)
        assert response.status_code == 400, path
        assert "The address contains a NUL character (U+0000), which cannot be stored." in response.content.decode(), path


@pytest.mark.parametrize(("path", "data", "field"), [
    ("/surveys/new/", {"name": "NPS\x00", "kind": "nps"}, "name"),
    ("/settings/", {"name": "Acme\x00"}, "name"),
    ("/settings/team/", {"email": "new@acme.test\x00", "role": "agent"}, "email"),
    ("/sign-in/", {"username": "lead@acme.test\x00", "password": "x"}, "username"),
    ("/password/forgot/", {"email": "\x00lead@acme.test"}, "email"),
])
def test_real_forms_refuse_a_nul_in_a_real_field(workspace, lead, path, data, field):
    before = stored_fingerprint(workspace)
    response = lead.post(path, data)
    assert _refused(response, field), (path, response.status_code)
    assert stored_fingerprint(workspace) == before


def test_a_file_name_with_a_nul_is_stripped_by_django_and_the_file_imported(workspace, lead):
    """The documented rule for upload names: Django's multipart parser drops every
    non-printable character from them (MultiPartParser.sanitize_file_name), so the NUL
    never arrives; the middleware's file-name check covers other upload handlers."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django_tenants.utils import tenant_context

    from ingestion.models import ImportJob

    upload = SimpleUploadedFile("conv\x00.csv", b"external_id,channel,created_at\r\nc,email,2026-03-01T10:00:00Z\r\n")
    response = lead.post("/data/import/", {"dataset": "conversations", "file": upload})
    assert response.status_code == 302
    with tenant_context(workspace):
        assert ImportJob.objects.get().file_name == "conv.csv"


class _Forms:
    """The forms of a page: (method, action, {field name: first value}) each, read with the
    standard library's HTML parser."""

    def __init__(self, html: str, path: str):
        from html.parser import HTMLParser

        forms, current = [], None

        class Parser(HTMLParser):
            def handle_starttag(self, tag, attrs):
                nonlocal current
                attrs = dict(attrs)
                if tag == "form":
                    current = ((attrs.get("method") or "get").lower(), attrs.get("action") or path, {})
                    forms.append(current)
                elif tag in ("input", "select", "textarea") and current is not None and attrs.get("name"):
                    if attrs.get("type") not in ("submit", "button", "file"):
                        current[2].setdefault(attrs["name"], attrs.get("value") or "")

            def handle_endtag(self, tag):
                nonlocal current
                if tag == "form":
                    current = None

        Parser().feed(html)
        self.forms = forms


# No lone surrogates: a form body is bytes, and bytes that are not UTF-8 are decoded by
# Django with replacement characters (only JSON escapes can carry one: test_json_input).
HOSTILE = ["9" * 30, "-" + "9" * 30, "NaN", "Infinity", "1e400", "0001-01-01", "9999-12-31T23:59", "{\"a\": 1}", "x" * 5000]


def test_every_form_survives_hostile_values_in_every_field(workspace, lead):
    """Numbers beyond any column, NaN, calendar edges, huge text typed into every field of
    every form (filters and pickers sent by GET included) of every page, and a page number
    beyond any: a form error, a 4xx or a redirect, never a 500."""
    problems, sent = [], 0
    for path in html_pages(workspace):
        page = lead.get(path)
        if page.status_code != 200 or not page["Content-Type"].startswith("text/html"):
            continue
        for value in ("9" * 30, "-1", "NaN"):
            if lead.get(path, {"page": value}).status_code >= 500:
                problems.append((path, "page", value))
        for method, action, fields in _Forms(page.content.decode(), path).forms:
            if not fields or "/sign-out/" in action:
                continue
            for value in HOSTILE:
                data = {name: value for name in fields if name != "csrfmiddlewaretoken"}
                response = lead.post(action, data) if method == "post" else lead.get(action, data)
                sent += 1
                if response.status_code >= 500:
                    problems.append((method, action, value, response.status_code))
    assert sent > 150 and problems == []
