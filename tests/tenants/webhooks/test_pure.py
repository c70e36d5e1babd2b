"""The pure parts of webhooks: the signature (a vector computed by hand with
``printf '%s' '1767225600.{"id":"evt_1","type":"ping"}' | openssl dgst -sha256 -hmac whsec_test_secret``),
its verification, URL checks, the retry schedule and the redirect rule."""
import pytest
from django.core.exceptions import ValidationError

from tenants.webhooks.delivery import redirect_refusal, webhook_retry_delay
from tenants.webhooks.signing import event_body, secret_generate, webhook_signature, webhook_verify
from tenants.webhooks.urlcheck import url_display, webhook_url_clean

SECRET = "whsec_test_secret"
BODY = b'{"id":"evt_1","type":"ping"}'
T = 1767225600  # 2026-01-01T00:00:00Z
HEADER = "t=1767225600,v1=ba16994fb8a72dbc6df45b1b545359e2b21f555ba71a5043e3c33a6c494c6ce3"


def test_the_signature_matches_the_hand_computed_vector():
    assert webhook_signature(secret=SECRET, body=BODY, timestamp=T) == HEADER


@pytest.mark.parametrize("secret, body, header, now, valid", [
    (SECRET, BODY, HEADER, T + 10, True),
    (SECRET, BODY, HEADER, T + 300, True),  # 5 minutes: still accepted
    (SECRET, BODY, HEADER, T + 301, False),  # stale: a replayed capture
    (SECRET, BODY, HEADER, T - 301, False),  # from the future
    ("whsec_other", BODY, HEADER, T, False),  # wrong secret
    (SECRET, b'{"id":"evt_1","type":"pong"}', HEADER, T, False),  # tampered body
    (SECRET, BODY, HEADER.replace("t=1767225600", "t=1767225601"), T, False),  # tampered timestamp
    (SECRET, BODY, "v1=ba16994fb8a72dbc6df45b1b545359e2b21f555ba71a5043e3c33a6c494c6ce3", T, False),  # no t=
    (SECRET, BODY, "t=1767225600", T, False),  # no signature
    (SECRET, BODY, f"t=1767225600,v1=00,{HEADER.split(',')[1]}", T, True),  # one of several v1 matches
    (SECRET, BODY, "", T, False),
])
def test_verify_accepts_only_a_fresh_signature_of_this_body_with_this_secret(secret, body, header, now, valid):
    assert webhook_verify(secret=secret, body=body, header=header, now=now) is valid


def test_secrets_are_whsec_tokens_and_the_body_is_canonical():
    first, second = secret_generate(), secret_generate()
    assert first.startswith("whsec_") and len(first) == 6 + 43 and first != second
    assert event_body({"type": "ping", "id": "é", "data": {"b": 1, "a": None}}) == \
        '{"data":{"a":null,"b":1},"id":"é","type":"ping"}'.encode()


@pytest.mark.parametrize("url, message", [
    ("ftp://x", "Webhook URL must start with http:// or https://."),
    ("http://", "Webhook URL has no host."),
    ("https:///path", "Webhook URL has no host."),
    ("not a url", "Webhook URL must start with http:// or https://."),
    ("http://exa mple.com/", "Webhook URL cannot contain spaces or control characters."),
    ("example.com/hook", "Webhook URL must start with http:// or https://."),
    ("javascript:alert(1)", "Webhook URL must start with http:// or https://."),
    ("http:/example.com", "Webhook URL must start with http:// or https://."),
    ("http://example.com:port/", "Webhook URL is not a valid URL (check the host and port)."),
    ("", "Enter the URL Pulse should POST events to."),
    ("https://e.com/" + "a" * 2000, "Webhook URL is too long (2014 characters; at most 2000)."),
])
def test_bad_urls_get_a_clear_message(url, message):
    with pytest.raises(ValidationError) as raised:
        webhook_url_clean(url)
    assert raised.value.messages == [message]


def test_good_urls_are_kept_and_credentials_are_never_displayed():
    assert webhook_url_clean("  http://localhost:8080/hook?x=1 ") == "http://localhost:8080/hook?x=1"
    assert webhook_url_clean("HTTPS://Example.com") == "HTTPS://Example.com"
    assert url_display("https://user:s3cret@hooks.example.com/in") == "https://…@hooks.example.com/in"
    assert url_display("https://hooks.example.com/in") == "https://hooks.example.com/in"


def test_the_default_backoff_schedule(settings):
    settings.WEBHOOK_RETRY_DELAYS = [30, 120, 600, 3600, 21600, 86400]
    assert [webhook_retry_delay(attempt) for attempt in range(1, 9)] == [
        30, 120, 600, 3600, 21600, 86400, 86400, 86400]


@pytest.mark.parametrize("source, target, followed, refusal", [
    ("http://a/x", "http://b/y", 0, ""),
    ("https://a/x", "https://b/y", 2, ""),
    ("https://a/x", "http://a/x", 0, "Redirect refused: https → http (http://a/x); only https:// to https:// redirects "
                                     "are followed."),
    ("http://a/x", "file:///etc/passwd", 0, "Redirect refused: http → file (file:///etc/passwd); only http:// to "
                                            "http:// redirects are followed."),
    ("http://a/x", "ftp://user:pw@a/x", 0, "Redirect refused: http → ftp (ftp://…@a/x); only http:// to http:// "
                                           "redirects are followed."),
    ("http://a/x", "http:///nohost", 0, "Redirect refused: http:///nohost has no host."),
    ("http://a/x", "http://a/y", 3, "Redirect refused: more than 3 redirects."),
])
def test_redirects_are_followed_to_the_same_scheme_only_and_three_at_most(source, target, followed, refusal):
    assert redirect_refusal(source=source, target=target, followed=followed) == refusal
