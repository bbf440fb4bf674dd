"""The alert webhooks' settings: one secret per source, ``AUTO_DECLARE``, ``HOOKS_PORT``.

A source whose secret is unset is not served at all (its path answers 404), so turning a
source on is setting its secret. Secrets are kept out of ``repr`` and never logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.hooks.autodeclare import Rule, RuleError, parse_rules


@dataclass(frozen=True)
class AlertSettings:
    alertmanager_token: str | None = field(default=None, repr=False)
    grafana_token: str | None = field(default=None, repr=False)
    grafana_hmac_secret: str | None = field(default=None, repr=False)
    pagerduty_secret: str | None = field(default=None, repr=False)
    opsgenie_token: str | None = field(default=None, repr=False)
    auto_declare: tuple[Rule, ...] = ()
    hooks_port: int | None = None  # Socket Mode's own listener; None: no listener

    @property
    def grafana_enabled(self) -> bool:
        return bool(self.grafana_token or self.grafana_hmac_secret)

    @property
    def secrets(self) -> tuple[str, ...]:
        """The values the log must never show."""
        values = (
            self.alertmanager_token,
            self.grafana_token,
            self.grafana_hmac_secret,
            self.pagerduty_secret,
            self.opsgenie_token,
        )
        return tuple(v for v in values if v)


def _secret(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def from_env(env: Mapping[str, str]) -> AlertSettings:
    """Read and check the variables; ``SettingsError`` names the one that is wrong."""
    from bot.settings import SettingsError  # bot.settings attaches this module's result

    try:
        rules = parse_rules(env.get("AUTO_DECLARE", ""))
    except RuleError as error:
        raise SettingsError(f"AUTO_DECLARE: {error}") from None
    raw_port = env.get("HOOKS_PORT", "").strip()
    hooks_port = None
    if raw_port:
        if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
            raise SettingsError(f"HOOKS_PORT {raw_port!r} is not a port number: use 1 to 65535.")
        hooks_port = int(raw_port)
    return AlertSettings(
        alertmanager_token=_secret(env, "ALERTMANAGER_TOKEN"),
        grafana_token=_secret(env, "GRAFANA_TOKEN"),
        grafana_hmac_secret=_secret(env, "GRAFANA_HMAC_SECRET"),
        pagerduty_secret=_secret(env, "PAGERDUTY_WEBHOOK_SECRET"),
        opsgenie_token=_secret(env, "OPSGENIE_TOKEN"),
        auto_declare=rules,
        hooks_port=hooks_port,
    )
