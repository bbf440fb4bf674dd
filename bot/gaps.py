"""What a rendered draft still leaves as the template's placeholders outside the sections only
people write (the 5 whys, contributing factors, what went well, what could be improved and the
lessons), each with the reason the bot's data cannot fill it. The demo's closing note lists them.
"""

from __future__ import annotations

import re

from bot.postmortem import ALWAYS_TO_FILL

# The judgement sections: written by people, by design (the draft's own list).
JUDGEMENT = frozenset(ALWAYS_TO_FILL)

_PLACEHOLDER = re.compile(
    r"\[(?! \]|x\])[^\]]+\]|\bX%|\bXms\b|\bX minutes\b|\bX users\b|\$X\b|@username\b"
    r"|@manager\b|@director\b|@team\b|YYYY-MM-DD|\bHH:MM\b|\bY minutes\b|\bZ%|: X$"
)
_FIELD = re.compile(r"^\s*(?:- |\| )?(?:\[ \] )?\*\*([^*]+)\*\*|^- (?:\[.\] )?([^:]+):")

# Why the data cannot give each field (by its label in the template).
REASONS: dict[str, str] = {
    "When": "the incident has not been resolved yet",
    "Impact": "the customer-facing impact is a person's summary; `/incident set impact`",
    "Root Cause": "the cause is a finding people state; `/incident set root-cause`",
    "Resolution": "nobody said how it was resolved; `/incident resolve <how>`",
    "Incident Slack Channel": "the incident has no channel",
    "Availability": "no downtime is known: set `/incident set downtime` or record a mitigation",
    "Error Rate": "the peak error rate lives in the metrics system; `/incident set error-rate`",
    "Latency": "p95/p99 latency lives in the metrics system, which the bot does not read",
    "Data Freshness": "staleness is measured by the data pipeline, not seen in Slack",
    "Users Affected": "the count comes from product analytics; `/incident set users-affected`",
    "Revenue Impact": "revenue is finance's figure, not in any message the bot sees",
    "Feature Availability": "which features failed is a reading of the impact, not a record",
    "SLA Breaches": "the bot does not know the customers' contracts",
    "Regions": "nothing recorded names the regions; `/incident set regions`",
    "Services": "nothing recorded names the services; `/incident set services`",
    "Data Sources": "no data provider is named in the incident; `/incident set data-sources`",
    "Similar incidents prevented": "a prevented incident never happens, so no data records it",
    "Detection time improved by": "no earlier incident shares a service to compare against",
    "Recovery time improved by": "no earlier incident shares a service to compare against",
    "Action items completion rate": "the incident has no action items to count",
    "Alert Dashboard": "no dashboard link was posted in the timeline, pins or items",
    "Log Analysis": "no log-search link was posted in the timeline, pins or items",
    "Code Changes": "no pull request, merge request or commit link was posted",
    "Configuration Changes": "no change ticket (Jira, ServiceNow) was linked",
    "Screenshots": "nobody pinned an image or a file in the incident channel",
    "Log Excerpts": "choosing the telling log lines is a reading of the logs the bot never sees",
    "Metrics Graphs": "before/during/after charts are drawn in the metrics system",
    "Code Snippets": "the code that caused or fixed it is chosen by a person from the diff",
    "Customer Updates": "no status-page link was posted",
    "Stakeholder Reports": "executive summaries are sent outside the incident channel",
    "Public Communication": "blog posts and statements are published outside Slack",
    "Technical Review": "nobody has signed that line yet (`/postmortem review`)",
    "Management Review": "nobody has signed that line yet (`/postmortem review`)",
    "Final Approval": "nobody has signed that line yet (`/postmortem review`)",
    "Author": "the post-mortem has not been sent for review yet",
    "Last Updated": "no person has changed the document yet",
}
SECTION_REASONS = {
    "Detection and Response": "no detection or response entry is on the timeline yet",
    "Investigation and Escalation": "no investigation entry is on the timeline yet",
    "Resolution and Recovery": "no resolution entry is on the timeline yet",
    "Immediate Actions": "no immediate action item was added",
    "Medium-term Actions": "no medium-term action item was added",
    "Long-term Actions": "no long-term action item was added",
    "Distribution List": "whom the post-mortem reached is decided and done outside the bot",
    "Response Time Metrics": "a milestone (detected, acknowledged, mitigated, resolved) is missing",
    "SLO Impact Calculation": "no downtime, mitigation or error rate is known",
}
# Lines of the template that are instructions, not fields.
_INSTRUCTIONS = ("**All times in UTC", "**Brief description")


def placeholders_left(markdown: str) -> list[tuple[str, str]]:
    """(field, why the data cannot give it) for each placeholder outside the judgement
    sections, in document order, each field once."""
    found: dict[str, str] = {}
    section = ""
    in_code = False
    for line in markdown.splitlines():
        if line.startswith("#"):
            section = re.sub(r"\s*\(.*\)$", "", line.lstrip("#").strip())  # "(Complete within…)"
            continue
        if line.strip() == "---":  # the closing lines (status, version) belong to no section
            section = ""
            continue
        if line.startswith("```"):
            in_code = not in_code
        if section in JUDGEMENT or line.startswith(_INSTRUCTIONS):
            continue
        unticked_list = section == "Distribution List" and line.startswith("- [ ]")
        # In a code block, brackets are syntax (the phase diagram's nodes), not placeholders.
        text = re.sub(r"\[[^\]]*\]", "", line) if in_code else line
        if not (_PLACEHOLDER.search(text) or unticked_list):
            continue
        field = _field_of(line, section, in_code)
        if field not in found:
            found[field] = REASONS.get(field) or SECTION_REASONS.get(section, "")
    return [(field, reason or "nothing the bot records says it") for field, reason in found.items()]


def _field_of(line: str, section: str, in_code: bool) -> str:
    if in_code or line.startswith("|") or section == "Distribution List":
        return section
    match = _FIELD.match(line)
    if match:
        return (match.group(1) or match.group(2) or "").strip().rstrip(":")
    return section


def closing_note(markdown: str) -> str:
    """The demo's closing note: each placeholder left outside the judgement sections, and why."""
    left = placeholders_left(markdown)
    if not left:
        return "Outside the judgement sections, the draft has no placeholder left."
    lines = [
        "Left as placeholders outside the judgement sections (5 whys, contributing factors, "
        "what went well, what could be improved, lessons), and why the data cannot give them:"
    ]
    lines += [f"  • {field}: {reason}" for field, reason in left]
    return "\n".join(lines)
