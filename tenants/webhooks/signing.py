"""Signing webhook bodies, Stripe-style: ``Pulse-Signature: t=<unix seconds>,v1=<hex HMAC>``
where the HMAC-SHA256 (keyed with the endpoint's secret) covers ``"<t>.<raw body>"``. The
timestamp is inside the signed text, so a receiver that rejects old timestamps cannot be
fed a captured request again later. Pure functions: no database, no clock unless given."""
import hashlib
import hmac
import json
import secrets
import time

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE = 300  # seconds: receivers reject signatures older than 5 minutes


def secret_generate() -> str:
    # 32 random bytes: as strong as the HMAC-SHA256 key can use.
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def event_body(payload: dict) -> bytes:
    """The bytes sent for ``payload``: compact, keys sorted (the stored JSON keeps no key
    order), UTF-8. The same payload always gives the same body."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def webhook_signature(*, secret: str, body: bytes, timestamp: int) -> str:
    """The ``Pulse-Signature`` header value of ``body`` signed at ``timestamp``."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def webhook_verify(*, secret: str, body: bytes, header: str, tolerance: int = DEFAULT_TOLERANCE,
                   now: float | None = None) -> bool:
    """What a receiver does: the header parses, its timestamp is within ``tolerance``
    seconds of now, and one of its v1 signatures matches (several v1 entries are allowed,
    as during a secret rotation)."""
    timestamp, signatures = None, []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    expected = webhook_signature(secret=secret, body=body, timestamp=timestamp).partition(",v1=")[2]
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)
