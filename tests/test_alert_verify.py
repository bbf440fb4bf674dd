"""Verification of each source's real signature or token scheme, forged and unsigned refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.harness import alerts as wire
from bot.hooks import Delivery, verify

FIXTURES = Path(__file__).parent / "fixtures" / "alerts"
BODY = (FIXTURES / "alertmanager" / "firing.json").read_bytes()


def delivery(signed: wire.Signed) -> Delivery:
    return Delivery(signed.body, {k.lower(): v for k, v in signed.headers.items()})


def test_alertmanager_bearer_token():
    assert verify.bearer(delivery(wire.alertmanager(BODY, token="s3cret")), "s3cret")
    assert not verify.bearer(delivery(wire.alertmanager(BODY, token="s3cre")), "s3cret")
    assert not verify.bearer(delivery(wire.alertmanager(BODY, token=None)), "s3cret")
    basic = Delivery(BODY, {"authorization": "Basic s3cret"})
    assert not verify.bearer(basic, "s3cret")
    lower = Delivery(BODY, {"authorization": "bearer s3cret"})
    assert verify.bearer(lower, "s3cret")
    odd = Delivery(BODY, {"authorization": "Bearer sécret"})
    assert not verify.bearer(odd, "s3cret")  # non-ASCII compares, and fails, without raising


def test_grafana_hmac_of_the_body_and_of_timestamp_body():
    plain = wire.grafana(BODY, hmac_secret="k")
    assert verify.grafana_hmac(delivery(plain), "k")
    assert not verify.grafana_hmac(delivery(plain), "other")
    stamped = wire.grafana(BODY, hmac_secret="k", timestamp=1764600000)
    assert verify.grafana_hmac(delivery(stamped), "k")
    # the signature covers the timestamp: changing it breaks the signature
    moved = delivery(stamped)
    moved = Delivery(moved.body, {**moved.headers, verify.GRAFANA_TIMESTAMP: "1764600001"})
    assert not verify.grafana_hmac(moved, "k")
    # the body is covered too
    tampered = Delivery(BODY + b" ", delivery(plain).headers)
    assert not verify.grafana_hmac(tampered, "k")
    assert not verify.grafana_hmac(Delivery(BODY, {}), "k")


def test_grafana_hmac_known_answer():
    # hex HMAC-SHA256("k", "1764600000:" + body), computed independently of the builder
    import hashlib
    import hmac

    expected = hmac.new(b"k", b"1764600000:" + BODY, hashlib.sha256).hexdigest()
    signed = wire.grafana(BODY, hmac_secret="k", timestamp=1764600000)
    assert signed.headers["X-Grafana-Alerting-Signature"] == expected
    assert signed.headers["X-Grafana-Alerting-Signature-Timestamp"] == "1764600000"


def test_grafana_library_default_header_name_is_read_too():
    signed = wire.grafana(BODY, hmac_secret="k", signature_header="X-Grafana-Alert-Signature")
    assert verify.grafana_hmac(delivery(signed), "k")


# PagerDuty/go-pagerduty webhookv3/webhookv3_test.go: its secret, body and valid signature.
GO_SECRET = "lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK"
GO_SIGNATURE = "v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd"
GO_MISMATCH = "v1=7020c8a7ec668a9b7012bc3dd82e483394b038f4230acc6785efbf2a7d8bcaf5"


def test_pagerduty_known_answer_from_go_pagerduty():
    body = (FIXTURES / "pagerduty" / "signed_body.json").read_bytes()
    good = Delivery(body, {verify.PAGERDUTY_SIGNATURE: GO_SIGNATURE})
    assert verify.pagerduty_signature(good, GO_SECRET)
    bad = Delivery(body, {verify.PAGERDUTY_SIGNATURE: GO_MISMATCH})
    assert not verify.pagerduty_signature(bad, GO_SECRET)
    assert not verify.pagerduty_signature(Delivery(body, {}), GO_SECRET)


def test_pagerduty_rotation_either_signature_passes():
    body = (FIXTURES / "pagerduty" / "incident_triggered.json").read_bytes()
    rotating = delivery(wire.pagerduty(body, secrets=["old-secret", "new-secret"]))
    assert "," in rotating.header("x-pagerduty-signature")
    assert verify.pagerduty_signature(rotating, "old-secret")
    assert verify.pagerduty_signature(rotating, "new-secret")
    assert not verify.pagerduty_signature(rotating, "third-secret")


@pytest.mark.parametrize(
    "header",
    [
        "",
        "v1=",
        "v0=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd",
        "0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd",
        ",,,",
        "v1=zz, v1=",
    ],
)
def test_pagerduty_malformed_headers_fail(header):
    body = (FIXTURES / "pagerduty" / "signed_body.json").read_bytes()
    assert not verify.pagerduty_signature(
        Delivery(body, {"x-pagerduty-signature": header}), GO_SECRET
    )


def test_pagerduty_spaces_after_commas_are_read():
    body = (FIXTURES / "pagerduty" / "signed_body.json").read_bytes()
    header = f"{GO_MISMATCH}, {GO_SIGNATURE}"
    assert verify.pagerduty_signature(Delivery(body, {"x-pagerduty-signature": header}), GO_SECRET)


def test_opsgenie_custom_header_token():
    body = (FIXTURES / "opsgenie" / "create.json").read_bytes()
    assert verify.header_token(
        delivery(wire.opsgenie(body, token="t0k")), "x-incident-bot-token", "t0k"
    )
    assert not verify.header_token(
        delivery(wire.opsgenie(body, token="t0")), "x-incident-bot-token", "t0k"
    )
    assert not verify.header_token(
        delivery(wire.opsgenie(body, token=None)), "x-incident-bot-token", "t0k"
    )
