"""Issue #15, "Sign-in lockout": the failure counter is keyed by the address as sign-in
looks it up (trimmed, lower-cased), so spelling it differently does not buy more
guesses; and sign-in, sign-up and password-reset requests are limited per client address
with a friendly 429 and Retry-After."""
import pytest
from django.core import mail
from django.test import Client

from tenants.accounts.models import email_normalise
from tenants.models import Workspace
from tests.factories import PASSWORD
from tests.helpers import host_client

VARIANTS = [" lead@acme.test", "LEAD@acme.test ", "\tlead@acme.test", "Lead@Acme.Test\n", "\t LEAD@ACME.TEST\t"]


@pytest.mark.parametrize("typed", VARIANTS)
def test_every_spelling_normalises_to_the_stored_address(typed):
    assert email_normalise(typed) == "lead@acme.test"


def _fail(client, username, address="10.0.0.1"):
    response = client.post("/sign-in/", {"username": username, "password": "wrong-wrong-wrong"}, REMOTE_ADDR=address)
    assert response.status_code == 200
    return response.content.decode()


def _sign_in(workspace, username, address="10.0.0.1"):
    client = host_client(workspace)
    response = client.post("/sign-in/", {"username": username, "password": PASSWORD}, REMOTE_ADDR=address)
    return response, "_auth_user_id" in client.session


def test_nine_failures_spelled_five_ways_count_as_nine(workspace):
    client = host_client(workspace)
    for n in range(9):
        assert "do not match a member of this workspace" in _fail(client, VARIANTS[n % len(VARIANTS)])
    # Nine of ten: the right password still signs in (by any spelling).
    response, signed_in = _sign_in(workspace, "\tLEAD@acme.test ")
    assert response.status_code == 302 and signed_in


@pytest.mark.parametrize("last", VARIANTS)
def test_the_tenth_failure_in_any_spelling_locks_every_spelling(workspace, last):
    client = host_client(workspace)
    for n in range(9):
        _fail(client, VARIANTS[n % len(VARIANTS)])
    _fail(client, last)
    for spelling in ["lead@acme.test", *VARIANTS]:
        response, signed_in = _sign_in(workspace, spelling)
        assert "Too many failed sign-ins. Wait 15 minutes or reset your password." in response.content.decode(), spelling
        assert not signed_in, spelling
    # The lockout is per address and client: the lead signs in from elsewhere.
    response, signed_in = _sign_in(workspace, "lead@acme.test", address="10.0.0.2")
    assert response.status_code == 302 and signed_in


def _assert_friendly_429(response, what):
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600
    body = response.content.decode()
    assert "<h1>Too many attempts</h1>" in body and f"There were too many {what} from your network address" in body
    assert "Please try again in <strong>" in body


def test_sign_in_is_rate_limited_per_client_address(workspace, settings):
    settings.ACCOUNT_SIGN_IN_RATE = "3/10m"
    client = host_client(workspace)
    for n in range(3):  # three different addresses: the per-email lockout never sees them
        _fail(client, f"guess{n}@acme.test")
    limited = client.post("/sign-in/", {"username": "lead@acme.test", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    _assert_friendly_429(limited, "sign-in attempts")
    # django-ratelimit counts in fixed windows: what is left of this one.
    assert 1 <= int(limited["Retry-After"]) <= 600
    assert "_auth_user_id" not in client.session  # even the right password is not tried
    assert client.get("/sign-in/", REMOTE_ADDR="10.0.0.1").status_code == 200  # showing the form is not limited
    response, signed_in = _sign_in(workspace, "lead@acme.test", address="10.0.0.2")
    assert response.status_code == 302 and signed_in


def test_behind_a_proxy_the_sign_in_limit_is_per_forwarded_client(workspace, settings):
    settings.ACCOUNT_SIGN_IN_RATE, settings.PROXY_HOPS = "2/10m", 1
    client = host_client(workspace)

    def post(forwarded):
        return client.post("/sign-in/", {"username": "x@acme.test", "password": "nope-nope-nope"}, REMOTE_ADDR="10.9.9.9",
                           HTTP_X_FORWARDED_FOR=forwarded).status_code

    assert [post("6.6.6.6, 203.0.113.7"), post("203.0.113.7"), post("203.0.113.7"), post("203.0.113.8")] == [200, 200, 429, 200]


def test_password_reset_requests_are_rate_limited_and_the_refused_one_sends_nothing(
        workspace, settings, outbox_only, eager_tasks):
    settings.ACCOUNT_PASSWORD_RESET_RATE = "2/h"
    client = host_client(workspace)
    with eager_tasks(execute=True):
        for _ in range(2):
            assert client.post("/password/forgot/", {"email": "lead@acme.test"}, REMOTE_ADDR="10.0.0.1").status_code == 302
        limited = client.post("/password/forgot/", {"email": "lead@acme.test"}, REMOTE_ADDR="10.0.0.1")
    _assert_friendly_429(limited, "password-reset requests")
    assert [m.to for m in mail.outbox] == [["lead@acme.test"], ["lead@acme.test"]]


def test_sign_ups_are_rate_limited_and_the_refused_one_creates_nothing(db, settings):
    settings.ACCOUNT_SIGN_UP_RATE = "1/h"
    public = Client(HTTP_HOST="localhost")
    first = public.post("/signup/", {"name": "One", "slug": "one-co", "time_zone": "UTC", "currency": "EUR",
                                     "lead_name": "O", "lead_email": "o@one.test", "lead_password": PASSWORD},
                        REMOTE_ADDR="10.0.0.1")
    assert first.status_code == 302
    second = public.post("/signup/", {"name": "Two", "slug": "two-co", "time_zone": "UTC", "currency": "EUR",
                                      "lead_name": "T", "lead_email": "t@two.test", "lead_password": PASSWORD},
                         REMOTE_ADDR="10.0.0.1")
    _assert_friendly_429(second, "sign-ups")
    assert list(Workspace.objects.filter(slug__in=["one-co", "two-co"]).values_list("slug", flat=True)) == ["one-co"]


def test_an_empty_rate_turns_a_limit_off(workspace, settings):
    settings.ACCOUNT_SIGN_IN_RATE = ""
    client = host_client(workspace)
    for n in range(40):
        _fail(client, f"guess{n}@acme.test")


def test_limits_are_per_workspace(workspace, other_workspace, settings):
    settings.ACCOUNT_SIGN_IN_RATE = "1/10m"
    _fail(host_client(workspace), "x@acme.test")
    assert host_client(workspace).post("/sign-in/", {"username": "x@acme.test", "password": "p"},
                                       REMOTE_ADDR="10.0.0.1").status_code == 429
    response, signed_in = _sign_in(other_workspace, "lead@globex.test")
    assert response.status_code == 302 and signed_in
