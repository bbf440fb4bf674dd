"""Is this delivery from who it says? Pure checks, each in constant time.

Every comparison goes through ``hmac.compare_digest`` on bytes, so neither a wrong token nor a
wrong signature answers faster for being closer. Nothing here logs or returns a secret.
"""

from __future__ import annotations

import hashlib
import hmac

from bot.hooks import Delivery

AUTHORIZATION = "authorization"
GRAFANA_SIGNATURE = "x-grafana-alerting-signature"
GRAFANA_TIMESTAMP = "x-grafana-alerting-signature-timestamp"
# grafana/alerting's default when a contact point's hmacConfig names no header.
GRAFANA_DEFAULT_SIGNATURE = "x-grafana-alert-signature"
PAGERDUTY_SIGNATURE = "x-pagerduty-signature"
PAGERDUTY_VERSION = "v1="


def same(given: str, expected: str) -> bool:
    """Constant-time equality of two strings (any characters)."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def hex_hmac_sha256(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def bearer(delivery: Delivery, token: str) -> bool:
    """``Authorization: Bearer <token>`` (the scheme in any case, as HTTP allows)."""
    scheme, _, credentials = delivery.header(AUTHORIZATION).strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return same(credentials.strip(), token)


def header_token(delivery: Delivery, name: str, token: str) -> bool:
    """A custom header carrying the token itself (Opsgenie's integration headers)."""
    given = delivery.header(name).strip()
    return bool(given) and same(given, token)


def grafana_hmac(delivery: Delivery, secret: str) -> bool:
    """Grafana's ``hmacConfig``: hex HMAC-SHA256 of the body, or of ``timestamp:body`` when
    the timestamp header is present (grafana/alerting ``http/hmac.go``).

    No freshness window is applied to the timestamp: a replayed delivery is the same body, and
    the store deduplicates it.
    """
    signature = delivery.header(GRAFANA_SIGNATURE) or delivery.header(GRAFANA_DEFAULT_SIGNATURE)
    signature = signature.strip().lower()
    if not signature:
        return False
    timestamp = delivery.header(GRAFANA_TIMESTAMP).strip()
    message = f"{timestamp}:".encode() + delivery.body if timestamp else delivery.body
    return same(signature, hex_hmac_sha256(secret, message))


def pagerduty_signature(delivery: Delivery, secret: str) -> bool:
    """``X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]``: any one ``v1`` signature matching the
    HMAC-SHA256 of the raw body with ``secret`` passes (several are sent while a secret
    rotates). Every candidate is compared, so the time does not say which one matched."""
    expected = PAGERDUTY_VERSION + hex_hmac_sha256(secret, delivery.body)
    matched = False
    for candidate in delivery.header(PAGERDUTY_SIGNATURE).split(","):
        candidate = candidate.strip()
        if candidate.startswith(PAGERDUTY_VERSION):
            matched |= same(candidate.lower(), expected)
    return matched
