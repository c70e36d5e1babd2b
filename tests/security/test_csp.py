"""Issue #15, "Content-Security-Policy on every HTML page": every HTML answer of both URL
confs carries the exact policy (read from the header of every route, found by walking the
URL confs: tests/security/pages.py), its scripts are 'self' plus chartkick's one inline
script by hash, the Outbox's email frame has its own tight policy, and no page has an
inline script or event handler the policy would block."""
import base64
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import Resolver404, resolve

from kpis.charts import CHARTKICK_SCRIPT_HASH, chartkick_script
from tenants.accounts.models import Role
from tests.helpers import BROWSER_AGENT, host_client
from tests.security.pages import PUBLIC_URLCONF, TENANT_URLCONF, html_pages, public_pages, routes, tenant_pages

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

# The policies, written out (directives sorted, see canonical()): the settings must say this.
APP_POLICY = (
    "base-uri 'self'; default-src 'self'; form-action 'self'; frame-ancestors 'none'; frame-src 'self'; "
    f"img-src 'self' data:; object-src 'none'; script-src 'self' {CHARTKICK_SCRIPT_HASH}; style-src 'self' 'unsafe-inline'")
# The public site's forms redirect to a workspace's host.
PUBLIC_FORMS_POLICY = APP_POLICY.replace("form-action 'self';", "form-action 'self' *.localhost:*;")
# Redoc's search runs in a worker made from a blob: URL.
REDOC_POLICY = APP_POLICY + "; worker-src blob:"
OUTBOX_EMAIL_POLICY = (
    "base-uri 'none'; default-src 'none'; form-action 'none'; frame-ancestors 'self'; img-src 'self' data: https: http:; "
    "sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation; style-src 'unsafe-inline'")
POLICY_OF_ROUTE = {
    "surveys:outbox_email_html": OUTBOX_EMAIL_POLICY,
    "api-redoc": REDOC_POLICY,
    "landing": PUBLIC_FORMS_POLICY,
    "signup": PUBLIC_FORMS_POLICY,
}
UNSAFE_SCRIPT_SOURCES = {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "http:", "https:", "data:", "blob:"}


def directives(header: str) -> dict[str, list[str]]:
    """The policy as {directive: sources}; a directive given twice fails (browsers would
    ignore the second one)."""
    parsed = {}
    for part in header.split(";"):
        name, *sources = part.split()
        assert name not in parsed, f"{name} appears twice in {header!r}"
        parsed[name] = sources
    return parsed


def canonical(header: str) -> str:
    """The header with its directives sorted: django-csp writes them in the order of a
    set, which changes from one process to the next."""
    return "; ".join(f"{name} {' '.join(sources)}".strip() for name, sources in sorted(directives(header).items()))


def expected_policy(urlconf: str, path: str) -> str:
    try:
        name = resolve(urlsplit(path).path, urlconf=urlconf).view_name
    except Resolver404:  # the 404 page
        return APP_POLICY
    return POLICY_OF_ROUTE.get(name, APP_POLICY)


class _InlineCode(HTMLParser):
    """Inline scripts (<script> without src that a browser would run) and event handler
    attributes (onclick=…) of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts, self.handlers, self._in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.handlers += [f"<{tag} {name}=…>" for name in attrs if name.startswith("on")]
        if tag == "script" and not attrs.get("src") and attrs.get("type") != "application/json":
            self._in_script = True
            self.scripts.append("")

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    @classmethod
    def of(cls, html: str) -> "_InlineCode":
        parser = cls()
        parser.feed(html)
        return parser


def _problems(response, urlconf: str, path: str) -> list[str]:
    """What is wrong with one answer's policy and inline code (nothing: [])."""
    if response.status_code == 500:  # (/healthz answers 503 when a service is down: its report)
        return [f"{path}: {response.status_code}"]
    if not response.get("Content-Type", "").startswith("text/html"):
        return []
    header = response.get("Content-Security-Policy")
    if header is None:
        return [f"{path} ({response.status_code}): no Content-Security-Policy"]
    problems = []
    if canonical(header) != expected_policy(urlconf, path):
        problems.append(f"{path}: {canonical(header)!r}")
    policy = directives(header)
    scripts = policy.get("script-src", policy["default-src"])
    if set(scripts) & UNSAFE_SCRIPT_SOURCES:
        problems.append(f"{path}: script sources {scripts}")
    inline = _InlineCode.of(response.content.decode())
    problems += [f"{path}: {handler}" for handler in inline.handlers]
    problems += [f"{path}: inline script {script[:60]!r}" for script in inline.scripts if script != chartkick_script()]
    return problems


def _walk(client: Client, urlconf: str, paths: list[str]) -> tuple[list[str], list[str]]:
    """GET every path like a browser, following redirects on the same host; returns the
    problems and the HTML paths checked."""
    problems, checked, seen = [], [], set()
    queue = list(paths)
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path, HTTP_ACCEPT=BROWSER_ACCEPT)
        problems += _problems(response, urlconf, path)
        if response.get("Content-Type", "").startswith("text/html"):
            checked.append(path)
        location = urlsplit(response.get("Location", ""))
        if response.status_code in (301, 302, 303, 307, 308) and not location.netloc:
            queue.append(location.path + (f"?{location.query}" if location.query else ""))
    return problems, checked


def test_every_route_of_both_url_confs_is_in_the_walk(workspace):
    names = set(tenant_pages(workspace))
    assert names == {route.name for route in routes(TENANT_URLCONF)}
    assert {"dashboard", "kpis:kpi", "surveys:outbox_email_html", "surveys:public", "surveys:answer",
            "surveys:unsubscribe", "accounts:login", "api-docs", "api-redoc", "api:surveys"} <= names
    assert public_pages() == {"landing": "/", "signup": "/signup/", "healthz": "/healthz"}


def test_every_html_page_of_a_workspace_has_the_policy_as_the_team_lead(workspace, lead):
    problems, checked = _walk(lead, TENANT_URLCONF, html_pages(workspace))
    assert problems == []
    # The walk did reach the pages (a sign-in redirect everywhere would check little).
    assert {"/", "/kpis/nps/", "/outbox/", "/settings/api-keys/", "/api/docs/", "/api/redoc/", "/api/v1/surveys"} <= set(checked)
    assert len(checked) > 60


def test_every_html_page_of_a_workspace_has_the_policy_signed_out(workspace):
    """Anonymous: the sign-in and password pages, and the pages customers open without an
    account (/p/…, /s/…, /u/…); the other pages redirect to the sign-in."""
    pages = html_pages(workspace)
    problems, checked = _walk(host_client(workspace), TENANT_URLCONF, pages)
    assert problems == []
    public = [path for path in pages if path.startswith(("/p/", "/s/", "/u/")) and not path.endswith("/qr.svg")]
    assert len(public) == 6 and set(public) <= set(checked)
    assert {"/sign-in/", "/password/forgot/"} <= set(checked)


def test_the_public_site_has_the_policy(db):
    client = Client(HTTP_HOST="localhost", HTTP_USER_AGENT=BROWSER_AGENT)
    problems, checked = _walk(client, PUBLIC_URLCONF, [*public_pages().values(), "/?workspace=nobody", "/no-such-page/"])
    assert problems == []
    assert checked == ["/", "/signup/", "/?workspace=nobody", "/no-such-page/"]


def test_error_pages_have_the_policy(workspace, make_member, monkeypatch):
    agent = host_client(workspace, make_member(Role.AGENT))
    forbidden = agent.get("/outbox/")
    assert forbidden.status_code == 403
    not_found = agent.get("/no-such-page/")
    assert not_found.status_code == 404
    unknown_host = Client(HTTP_HOST="nobody.localhost").get("/")
    assert unknown_host.status_code == 404 and b"There is no workspace at this address" in unknown_host.content

    from surveys.selectors import distribution

    def broken():
        raise RuntimeError("a bug")

    monkeypatch.setattr(distribution, "outbox_list", broken)
    lead = host_client(workspace, workspace.lead)
    lead.raise_request_exception = False
    server_error = lead.get("/outbox/")
    assert server_error.status_code == 500
    for response in (forbidden, not_found, unknown_host, server_error):
        assert response["Content-Type"] == "text/html; charset=utf-8"
        assert canonical(response["Content-Security-Policy"]) == APP_POLICY


def test_a_refused_survey_form_has_the_policy(workspace):
    """The CSRF failure page of the public survey pages (surveys.views.answering.csrf_failure)."""
    path = next(path for path in html_pages(workspace) if path.startswith("/p/") and path.count("/") == 2)
    client = Client(HTTP_HOST=workspace.domain_name, HTTP_USER_AGENT=BROWSER_AGENT, enforce_csrf_checks=True)
    refused = client.post(path, {})
    assert refused.status_code == 403
    assert canonical(refused["Content-Security-Policy"]) == APP_POLICY


def test_the_outbox_frame_has_its_own_tight_policy(workspace, lead):
    pages = tenant_pages(workspace)
    parent = lead.get(pages["surveys:outbox_email"])
    assert parent.status_code == 200
    assert f'<iframe src="{pages["surveys:outbox_email_html"]}" title="The email, rendered" sandbox=' in parent.content.decode()
    assert directives(parent["Content-Security-Policy"])["frame-src"] == ["'self'"]

    framed = lead.get(pages["surveys:outbox_email_html"])
    assert framed.status_code == 200 and b"How likely are you to recommend Acme?" in framed.content
    assert canonical(framed["Content-Security-Policy"]) == OUTBOX_EMAIL_POLICY
    assert "script-src" not in directives(framed["Content-Security-Policy"])  # default-src 'none': no script at all
    assert framed["X-Frame-Options"] == "SAMEORIGIN"
    # Every other page refuses to be framed, by both headers.
    assert directives(parent["Content-Security-Policy"])["frame-ancestors"] == ["'none'"]
    assert parent["X-Frame-Options"] == "DENY"


def test_the_chartkick_hash_is_the_one_of_the_script_on_a_kpi_page(workspace, lead):
    page = lead.get("/kpis/nps/").content.decode()
    scripts = _InlineCode.of(page).scripts
    assert len(scripts) >= 1 and len(set(scripts)) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert CHARTKICK_SCRIPT_HASH == f"'sha256-{digest}'"
    assert directives(lead.get("/kpis/nps/")["Content-Security-Policy"])["script-src"] == ["'self'", f"'sha256-{digest}'"]
    assert re.search(r'<script id="chart-[0-9a-f]{32}-json" type="application/json">', page)


def test_swagger_ui_loads_its_start_up_script_as_a_file(workspace):
    client = host_client(workspace)
    docs = client.get("/api/docs/").content.decode()
    assert _InlineCode.of(docs).scripts == []
    assert re.findall(r'<script src="([^"]+)"', docs) == [
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js",
        "/api/docs/?script="]
    script = client.get("/api/docs/?script=")
    assert script["Content-Type"] == "application/javascript"
    assert b'url: "/api/v1/schema/",' in script.content
    redoc = client.get("/api/redoc/").content.decode()
    assert "googleapis" not in redoc and "https://" not in redoc
    assert re.findall(r'<script src="([^"]+)"', redoc) == ["/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"]


def test_a_route_the_walk_cannot_fill_fails_loudly(monkeypatch):
    from tests.security import pages

    monkeypatch.setattr(pages, "_ARGUMENTS", {})
    with pytest.raises(pages.RouteNotFilled) as refused:
        pages._fill(routes(TENANT_URLCONF), None)
    assert "surveys:edit (surveys/<int:pk>/edit/)" in str(refused.value)


ROOT = Path(__file__).resolve().parent.parent.parent
INLINE_SCRIPT_TAG = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.IGNORECASE)
HANDLER_ATTRIBUTE = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE)
SCRIPT_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


@pytest.mark.parametrize("template", sorted(str(path.relative_to(ROOT)) for path in (ROOT / "templates").rglob("*.html")))
def test_no_template_has_an_inline_script_or_handler(template):
    """The page walk only sees what its GETs render (the new API key box, with its
    select-on-focus, is shown after a POST): the templates themselves hold none either."""
    text = (ROOT / template).read_text()
    assert INLINE_SCRIPT_TAG.findall(text) == []
    assert HANDLER_ATTRIBUTE.findall(text) == []
    assert SCRIPT_URL.findall(text) == []
