"""``python -m bot.harness.slack``: serve the Slack stand-in until killed."""

from bot.harness.slack.server import main

main()
