"""``python -m bot.harness.slack``: serve the Slack stand-in until killed."""

from __future__ import annotations

import argparse
import signal
import sys
import time

from bot.harness.slack.server import SlackStandIn


def main(argv: list[str] | None = None) -> None:
    """Serve a SlackStandIn until killed; prints its base_url on stdout."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.harness.slack", description="Serve the Slack stand-in until killed."
    )
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--strict", action="store_true", help="unknown channel IDs fail")
    parser.add_argument(
        "--user", action="append", default=[], metavar="ID:NAME[:TZ]", help="seed a user"
    )
    parser.add_argument("--channel", action="append", default=[], metavar="NAME")
    args = parser.parse_args(argv)
    fake = SlackStandIn(port=args.port, strict=args.strict).start()
    for spec in args.user:
        uid, name, *rest = spec.split(":")
        fake.add_user(uid, name, rest[0] if rest else "UTC")
    for name in args.channel:
        print(f"channel #{name} = {fake.add_channel(name)}", flush=True)
    print(fake.base_url, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
