"""Hostile command text through the real Bolt app (issue 5, section 5).

Every text that `/incident start`, `/timeline`, `/action add` and `/incident set` receive gets a
2xx and a clear answer: a sentence, never a stack trace, an exception's name or the catch-all
"failed on my side". The draft that `/postmortem file` then uploads keeps the template's shape
(the same headings, every table row with its header's column count) and carries the user's text
as data: `{{ 7*7 }}` stays literal.

Each property test builds the app once (the ``slack`` fixture) and runs its own ``@given``
function inside, so the fixture is not shared across examples behind hypothesis' back. Every
example declares a fresh incident, so that examples stay independent and shrink well.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bot.app import SORRY
from bot.domain import FIELD_NAMES
from bot.harness import Call
from tests.conftest import TEMPLATE_SPEC, FakeClock, SlackDriver, reply_text, wait_until
from tests.test_postmortem import headings

# Kept small enough for the suite's minute on two cores; the explicit @examples always run too.
MAX_EXAMPLES = 60
PROPERTY = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,  # each example is a few signed requests and a Slack round trip
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

JINJA_LITERALS = ("{{ 7*7 }}", "{% raw %}")
MARKED = "ZQ{{ 7*7 }}QZ"  # evaluated, it would read ZQ49QZ
TEN_THOUSAND = 10_000

UNICODE = (
    "Zoë's café", "日本語の障害", "مرحبا بالعالم", "שלום עולם", "\u202eevil\u202c", "\u200f\u200e",
    "👩‍👩‍👧‍👦🔥", "🇺🇦", "e\u0301\u0301", "\ufeffBOM", "𝕳𝖊𝖑𝖑𝖔", "ﷺ",
)  # fmt: skip
CONTROL = ("\x07", "\x1b[31mred\x1b[0m", "\r", "\t", "\x7f", "\x85", "\u2028", "\x0b\x0c", "\x00")
SLACK_ESCAPES = (
    "<@U123|bob>", "<@U123>", "<#C1|x>", "<#C1>", "<!here>", "<!channel>",
    "<!subteam^S1|@oncall>", "<!date^1392734382^{date}|Feb 18>",
    "<https://example.com/a?b=1&amp;c=2|a link>", "<mailto:a@example.com|mail>",
    "&lt;", "&gt;", "&amp;", "&lt;not a tag&gt;",
)  # fmt: skip
TABLE_BREAKERS = (
    "|", "||", "\\|", "\\", "\n", "\r\n", "\n\n", "`", "```", "```\ncode\n```", "| --- |",
    "\n| a | b |\n|---|---|\n", "# Heading", "\n## Injected\n", "\n---\n", "> quote",
)  # fmt: skip
HTML = (
    "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;", "<h1>big</h1>",
    "<!--", "-->", "<table><tr><td>", "<br/>", "&lt;img src=x onerror=alert(1)&gt;",
)  # fmt: skip
JINJA = (
    "{{ 7*7 }}", "{% raw %}", "{% endraw %}", "{{ d.incident_id }}", "{# c #}",
    "{% for x in range(3) %}x{% endfor %}", "{{ ''.__class__.__mro__ }}", "{{", "}}", "{%",
)  # fmt: skip
FRAGMENTS = UNICODE + CONTROL + SLACK_ESCAPES + TABLE_BREAKERS + HTML + JINJA


def _ten_thousand(parts: list[str]) -> str:
    unit = "".join(parts) or "x"
    return (unit * (TEN_THOUSAND // len(unit) + 1))[:TEN_THOUSAND]


fragment = st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=24))
short_text = st.lists(fragment, min_size=1, max_size=8).map("".join)
long_text = st.lists(fragment, min_size=1, max_size=4).map(_ten_thousand)
marked_text = st.tuples(short_text, short_text).map(lambda p: f"{p[0]} {MARKED} {p[1]}")
hostile_text = st.one_of(short_text, long_text, marked_text)

# One of each kind the issue names, run on every run whatever hypothesis draws.
EXAMPLES = (
    "Zoë 日本語 مرحبا שלום \u202eevil\u202c 👩‍👩‍👧‍👦🔥 e\u0301",
    "x" * TEN_THOUSAND,
    "\x00\x07\x1b[31mred\x1b[0m\r\t\x7f tail",
    "<@U123|bob> in <#C1|x>: <!here> &lt;b&gt; &amp; <https://example.com|link>",
    "a | b || c \\| d \\\n| e | f |\n|---|---|\n``` `code` ```",
    "<script>alert(1)</script> &lt;h1&gt;big&lt;/h1&gt; <!--",
    f"{MARKED} {{% raw %}} {{{{ d.incident_id }}}} {{% endraw %}}",
    "webhook payload dropped",  # Bolt's own parser reads any body holding "payload" as {}
)

EXCEPTION_NAME = re.compile(r"Traceback|\b[A-Z]\w*(?:Error|Exception)\b|\bNoneType\b|\bErrno\b")


# --- checks ---------------------------------------------------------------------------------


def assert_clear(answer: str, typed: str) -> None:
    """A sentence for the user: not empty, not the catch-all, no trace of Python."""
    assert answer.strip(), "the bot gave no answer"
    assert SORRY not in answer, "the listener raised: the user got the catch-all apology"
    leaked = [m.group(0) for m in EXCEPTION_NAME.finditer(answer) if m.group(0) not in typed]
    assert not leaked, f"the answer shows Python internals {leaked}: {answer[:300]!r}"


def split_row(line: str) -> list[str]:
    """A table line's cells as GFM and markdown-it split them: a pipe after a backslash stays
    in its cell; the outer pipes open and close the row."""
    cells, current, escaped = [], "", False
    for ch in line.strip():
        if ch == "|" and not escaped:
            cells.append(current)
            current = ""
        else:
            current += ch
        escaped = ch == "\\"
    cells.append(current)
    if cells and cells[0] == "":
        cells.pop(0)
    if cells and cells[-1] == "":
        cells.pop()
    return cells


# Block structure only: headings' text and table rows are known before inline parsing, which
# would triple the time spent on drafts with long cells.
BLOCKS = MarkdownIt("commonmark").enable("table").disable("inline")


@dataclass(frozen=True)
class Shape:
    """What a parser sees of a Markdown document: its headings and its tables' source lines."""

    headings: list[tuple[str, str]]
    tables: list[list[str]]  # each table's rows as source lines, header first


def shape(markdown: str) -> Shape:
    """One markdown-it parse. Tables are kept as source lines because markdown-it pads or cuts
    every row to the header's width: its cells cannot show a row that a stray pipe widened."""
    tokens = BLOCKS.parse(markdown)
    lines = re.split(r"\r\n|\r|\n", markdown)  # markdown-it's line breaks, not str.splitlines
    found: list[tuple[str, str]] = []
    tables: list[list[str]] = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            found.append((token.tag, tokens[i + 1].content))
        elif token.type == "table_open":
            tables.append([])
        elif token.type == "tr_open" and token.map is not None:
            tables[-1].append(lines[token.map[0]])
    return Shape(found, tables)


@pytest.fixture(scope="module")
def template() -> Shape:
    if not TEMPLATE_SPEC.is_file():
        pytest.skip(f"the shared post-mortem template is not beside this clone ({TEMPLATE_SPEC})")
    spec = shape(TEMPLATE_SPEC.read_text())
    assert spec.headings == headings(TEMPLATE_SPEC.read_text())  # the same reading as elsewhere
    return spec


def assert_valid_draft(draft: str, template: Shape, stored: list[str]) -> None:
    """The template's headings and tables, and every stored text as data, never template."""
    got = shape(draft)
    assert got.headings[0][1].startswith("Post-Mortem: INCIDENT-"), "the H1 names the incident"
    assert got.headings[1:] == template.headings[1:], "the heading sequence is not the template's"
    assert len(got.tables) == len(template.tables), "a table was split or lost"
    for table in got.tables:
        width = len(split_row(table[0]))
        for line in table[1:]:
            assert len(split_row(line)) == width, f"a row is not {width} cells wide: {line[:300]!r}"
    for text in stored:
        for literal in JINJA_LITERALS:
            if literal in text:
                assert literal in draft, f"{literal!r} was evaluated or lost"
    assert MARKED.replace("{{ 7*7 }}", "49") not in draft, "user text was evaluated as Jinja"


# --- driving the app ------------------------------------------------------------------------


class Hostile:
    """One example's requests: a fresh incident, the hostile command, the draft, the log."""

    def __init__(
        self, slack: SlackDriver, clock: FakeClock, caplog: pytest.LogCaptureFixture
    ) -> None:
        self.slack, self.clock, self.caplog = slack, clock, caplog
        self.count = 0

    def fresh_incident(self) -> str:
        """A new incident with its own channel, straight in the store: the command under test
        is what goes through Slack, and a new incident keeps each example on its own."""
        self.count += 1
        self.clock.advance(minutes=1)
        incident, _ = self.slack.store.incidents.create(
            title="Hostile input",
            severity="SEV2",
            commander_id="U_ALICE",
            started_at=self.clock(),
            channel_id=f"CHOSTILE{self.count}",
            channel_name=f"incident-hostile-{self.count}",
        )
        assert incident.channel_id is not None
        self.caplog.clear()
        return incident.channel_id

    def send(self, command: str, text: str, channel: str) -> str:
        """Send the command; its answer is the ack's text or, for an empty ack, the bot's post
        in the channel that follows it."""
        posts = len(self.channel_posts(channel))
        response = self.slack.command(command, text, channel_id=channel, channel_name="x")
        assert response.status == 200, (response.status, response.body)
        if answer := reply_text(response):
            return answer
        wait_until(lambda: len(self.channel_posts(channel)) > posts)
        return str(self.channel_posts(channel)[posts].params["text"])

    def channel_posts(self, channel: str) -> list[Call]:
        calls = self.slack.fake.calls_to("chat.postMessage")
        return [c for c in calls if c.params.get("channel") == channel]

    def draft(self, channel: str) -> str:
        """What `/postmortem file` uploads to the channel."""
        uploads = len(self.slack.fake.calls_to("files.completeUploadExternal"))
        response = self.slack.command("/postmortem", "file", channel_id=channel)
        assert response.status == 200, response.body
        wait_until(
            lambda: (
                len(self.slack.fake.calls_to("files.completeUploadExternal")) > uploads
                or bool(self.errors_logged())
            )
        )
        assert not self.errors_logged(), self.errors_logged()
        return self.slack.fake.uploads[-1].content

    def stored(self, channel: str) -> list[str]:
        """Every text of the channel's incident that the draft shows, as stored."""
        store = self.slack.store
        incident = store.incidents.for_channel(channel_id=channel)
        assert incident is not None
        texts = [incident.title, *incident.fields.values()]
        texts += [e.text for e in store.timeline.for_incident(incident_id=incident.id)]
        for item in store.items.for_incident(incident_id=incident.id):
            texts += [item.text, item.verification or ""]
        return texts

    def errors_logged(self) -> list[str]:
        return [
            f"{r.name}: {r.getMessage()[:300]}"
            for r in self.caplog.records
            if r.levelno >= logging.ERROR
        ]

    def check(self, command: str, text: str, channel: str, template: Shape) -> None:
        """The property: a 2xx and a clear answer, then a valid draft and no error logged."""
        assert_clear(self.send(command, text, channel), text)
        assert_valid_draft(self.draft(channel), template, self.stored(channel))
        assert not self.errors_logged(), self.errors_logged()


@pytest.fixture
def hostile(slack: SlackDriver, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> Hostile:
    caplog.set_level(logging.WARNING)
    return Hostile(slack, clock, caplog)


def property_over(
    run: Callable[..., None],
    pinned: list[dict[str, str]] | None = None,
    **strategies: st.SearchStrategy[str],
) -> Callable[[], None]:
    """``run`` as a hypothesis property: the ``pinned`` examples (by default one text of each
    kind the issue names) always run first, then what hypothesis draws. Built inside a test,
    it shares that test's one app, so no fixture is reused behind hypothesis' back."""
    test = given(**(strategies or {"text": hostile_text}))(run)
    for kwargs in reversed(pinned if pinned is not None else [{"text": t} for t in EXAMPLES]):
        test = example(**kwargs)(test)
    return PROPERTY(test)


# --- the properties -------------------------------------------------------------------------


def test_incident_start_with_hostile_titles(hostile: Hostile, template: Shape) -> None:
    slack = hostile.slack

    def run(text: str) -> None:
        hostile.clock.advance(minutes=1)
        hostile.caplog.clear()
        known = {i.id for i in slack.store.incidents.all()}
        pins = len(slack.fake.calls_to("pins.add"))
        refusals = len(slack.fake.calls_to("response_url"))
        response = slack.command("/incident", f"start {text}")
        assert response.status == 200, response.body
        answer = reply_text(response)
        assert_clear(answer, text)
        created = [i for i in slack.store.incidents.all() if i.id not in known]
        if not created:
            return  # a usage error, answered in a sentence: nothing to draft
        (incident,) = created
        assert incident.id in answer
        wait_until(
            lambda: (
                len(slack.fake.calls_to("pins.add")) > pins
                or len(slack.fake.calls_to("response_url")) > refusals
            )
        )
        assert len(slack.fake.calls_to("response_url")) == refusals, "channel set-up failed"
        assert not hostile.errors_logged(), hostile.errors_logged()
        hostile.caplog.clear()
        incident = slack.store.incidents.get(incident_id=incident.id)
        assert incident is not None and incident.channel_id is not None
        channel = incident.channel_id
        assert_valid_draft(hostile.draft(channel), template, hostile.stored(channel))

    property_over(run)()


def test_timeline_with_hostile_text(hostile: Hostile, template: Shape) -> None:
    def run(text: str) -> None:
        hostile.check("/timeline", text, hostile.fresh_incident(), template)

    property_over(run)()


def test_action_add_with_hostile_text(hostile: Hostile, template: Shape) -> None:
    def run(text: str) -> None:
        hostile.check("/action", f"add {text}", hostile.fresh_incident(), template)

    # Verification criteria fill a column of their own.
    pinned = [{"text": t} for t in EXAMPLES]
    pinned.append({"text": f"fix it | now `x` \n| y | verify: {MARKED} | z\n|"})
    property_over(run, pinned)()


def test_incident_set_with_hostile_text(hostile: Hostile, template: Shape) -> None:
    def run(field: str, text: str) -> None:
        hostile.check("/incident", f"set {field} {text}", hostile.fresh_incident(), template)

    pinned = [
        *({"field": FIELD_NAMES[i], "text": text} for i, text in enumerate(EXAMPLES)),
        {"field": "impact", "text": f"{MARKED} {{% raw %}}"},
    ]
    property_over(run, pinned, field=st.sampled_from(FIELD_NAMES), text=hostile_text)()


# --- what the properties found once, kept as plain examples ------------------------------------


def test_a_title_at_the_length_cap_still_gets_its_channel_set_up(hostile: Hostile) -> None:
    slack = hostile.slack
    response = slack.command("/incident", "start " + "x" * TEN_THOUSAND)
    assert response.status == 200 and "Declared" in reply_text(response)
    wait_until(lambda: bool(slack.fake.calls_to("pins.add") or slack.fake.calls_to("response_url")))
    assert slack.fake.calls_to("response_url") == [], "Slack refused the channel's set-up"
    assert not hostile.errors_logged(), hostile.errors_logged()


def test_a_huge_downtime_still_lets_the_draft_render(hostile: Hostile, template: Shape) -> None:
    hostile.check("/incident", "set downtime 99999999999999999", hostile.fresh_incident(), template)
