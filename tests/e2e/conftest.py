"""Browser test fixtures: Chromium with Playwright, a screenshot per main page, and the
demo-data workspace the KPI pages are shown on."""
import os
from pathlib import Path
from datetime import date

import pytest
from django_tenants.utils import tenant_context

from ingestion.generator import World
from kpis.services.compute import kpis_compute
from tenants.demo import demo_data_load
from tests.e2e.helpers import SCREENSHOTS, live_base

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session", autouse=True)
def _patient_expect():
    """expect() retries for 5 s by default; a loaded 2-core machine may need longer."""
    from playwright.sync_api import expect

    expect.set_options(timeout=20000)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `python3 pulse.py test` installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        # Headless Chromium says "HeadlessChrome" in its User-Agent, as some link scanners
        # do: the survey pages would hold its answers for review. Present as the desktop
        # Chrome a person uses (tests of the scanner protection send their own agents).
        from tests.helpers import BROWSER_AGENT

        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, f"--user-agent={BROWSER_AGENT}"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(30000)
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str, target=None):
        path = SCREENSHOTS / f"{name}.png"
        (target or page).screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def globex(committed_workspace, live_server):
    workspace = committed_workspace("globex")
    demo_data_load(workspace=workspace, world=World.scaled(0.02, end=date(2026, 11, 1)))
    with tenant_context(workspace):
        kpis_compute(since=date(2025, 10, 1), until=date(2026, 11, 2))
    workspace.base = live_base(live_server, workspace)
    return workspace
