"""What the browser tests share besides fixtures (test modules import from here, never
from one another): where screenshots go, and signing in."""
from pathlib import Path

from tests.factories import PASSWORD

SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts" / "screenshots"


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/sign-in/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def live_base(live_server, workspace) -> str:
    """The address of ``workspace`` on the live test server: its own host, the server's port."""
    return f"http://{workspace.domain_name}:{live_server.url.rsplit(':', 1)[1]}"
