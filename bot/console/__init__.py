"""Try the bot without Slack: ``incident-bot shell`` and ``incident-bot demo``.

The production Bolt app and listeners run unchanged. What a person types is turned into the
signed requests Slack would send (:mod:`bot.harness.wire`); the bot's Web API calls go to the
harness's stand-in for Slack on 127.0.0.1 (:mod:`bot.harness.slack`), whose changes
:mod:`bot.console.screen` prints as a workspace would show them (:mod:`bot.console.render`).
:mod:`bot.console.session` ties them together; :mod:`bot.console.repl` is the prompt and the
script runner; :mod:`bot.console.demo` replays a built-in incident.
"""
