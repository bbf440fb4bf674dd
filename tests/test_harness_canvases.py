"""The stand-in's canvases answer as Slack documents them."""

from __future__ import annotations

import json

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.harness import SlackStandIn
from bot.harness.canvases import CanvasError, Canvases

DOC = (
    "# Title\n\nintro\n\n## 📋 Summary\n\n- a\n\n"
    "### Detail\n\n| x |\n|---|\n| 1 |\n\n## Other\n\ny\n"
)


def created(canvases: Canvases) -> str:
    answer = canvases.conversations_canvases_create(
        {"channel_id": "C1", "document_content": {"type": "markdown", "markdown": DOC}}
    )
    assert answer["ok"] is True and answer["canvas_id"].startswith("F")
    return answer["canvas_id"]


def lookup(canvases: Canvases, canvas_id: str, **criteria) -> list[str]:
    answer = canvases.canvases_sections_lookup(
        {"canvas_id": canvas_id, "criteria": json.dumps(criteria)}  # as slack_sdk sends it
    )
    return [s["id"] for s in answer["sections"]]


def test_one_channel_canvas_per_channel():
    canvases = Canvases()
    created(canvases)
    with pytest.raises(CanvasError) as exc:
        created(canvases)
    assert exc.value.error == "channel_canvas_already_exists"


def test_lookup_by_type_and_text():
    canvases = Canvases()
    cid = created(canvases)
    assert len(lookup(canvases, cid, section_types=["h2"])) == 2
    assert len(lookup(canvases, cid, section_types=["any_header"])) == 4
    summary = lookup(canvases, cid, section_types=["h2"], contains_text="Summary")
    assert len(summary) == 1 and summary[0].startswith("temp:C:")
    assert lookup(canvases, cid, section_types=["h3"], contains_text="Summary") == []
    with pytest.raises(CanvasError):
        lookup(canvases, cid)
    with pytest.raises(CanvasError):
        lookup(canvases, cid, section_types=["h4"])


def test_edit_takes_one_change_per_call_and_keeps_the_heading_id():
    canvases = Canvases()
    cid = created(canvases)
    [summary] = lookup(canvases, cid, section_types=["h2"], contains_text="Summary")
    change = {
        "operation": "replace",
        "section_id": summary,
        "document_content": {"type": "markdown", "markdown": "## 📋 Summary\n\n- b"},
    }
    with pytest.raises(CanvasError):
        canvases.canvases_edit({"canvas_id": cid, "changes": [change, change]})
    assert canvases.canvases_edit({"canvas_id": cid, "changes": [change]}) == {"ok": True}
    content = canvases.canvases_get_content({"canvas_id": cid})["content"]
    assert "- b" in content and "- a" not in content and "### Detail" in content
    assert lookup(canvases, cid, section_types=["h2"], contains_text="Summary") == [summary]
    after = {
        "operation": "insert_after",
        "section_id": summary,
        "document_content": {"type": "markdown", "markdown": "## New\n\nz"},
    }
    canvases.canvases_edit({"canvas_id": cid, "changes": json.dumps([after])})
    content = canvases.canvases_get_content({"canvas_id": cid})["content"]
    assert content.index("## New") < content.index("### Detail")


def test_a_person_edits_and_deleted_canvases_are_not_found():
    canvases = Canvases()
    cid = created(canvases)
    canvases.person_edit(cid, "Other", "mine")
    assert canvases.section_text(cid, "Other") == "## Other\n\nmine"
    canvases.person_delete(cid, "Detail")
    assert "Detail" not in canvases.markdown(cid)
    canvases.delete(cid)
    with pytest.raises(CanvasError) as exc:
        canvases.canvases_get_content({"canvas_id": cid})
    assert exc.value.error == "canvas_not_found"
    assert created(canvases) != cid  # the channel may have a canvas again


def test_unavailable_canvases_answer_slack_s_error():
    canvases = Canvases()
    canvases.unavailable = "team_tier_cannot_create_channel_canvases"
    with pytest.raises(CanvasError) as exc:
        created(canvases)
    assert exc.value.error == "team_tier_cannot_create_channel_canvases"


def test_h4_is_refused_like_slack_refuses_bad_content():
    canvases = Canvases()
    with pytest.raises(CanvasError) as exc:
        canvases.conversations_canvases_create(
            {"channel_id": "C1", "document_content": {"type": "markdown", "markdown": "#### x"}}
        )
    assert exc.value.error == "canvas_creation_failed"


def test_over_http_with_slack_sdk_as_the_bot_calls_them() -> None:
    with SlackStandIn(strict=True) as fake:
        channel = fake.add_channel("incident-1")
        client = WebClient(token="xoxb-test", base_url=fake.base_url)
        document = {"type": "markdown", "markdown": DOC}
        canvas_id = client.conversations_canvases_create(
            channel_id=channel, document_content=document
        )["canvas_id"]
        with pytest.raises(SlackApiError) as exc:
            client.conversations_canvases_create(channel_id="C_NOPE", document_content=document)
        assert exc.value.response["error"] == "channel_not_found"
        assert (
            client.conversations_info(channel=channel)["channel"]["properties"]["canvas"]["file_id"]
            == canvas_id
        )
        [call] = fake.calls_to("conversations.canvases.create")[:1]
        assert call.params["document_content"] == document  # JSON body, decoded
        found = client.canvases_sections_lookup(
            canvas_id=canvas_id, criteria={"section_types": ["h3"], "contains_text": "Detail"}
        )["sections"]
        assert len(found) == 1
        assert fake.calls_to("canvases.sections.lookup")[0].params["criteria"] == {
            "section_types": ["h3"], "contains_text": "Detail",
        }  # fmt: skip
        client.canvases_edit(
            canvas_id=canvas_id,
            changes=[{"operation": "delete", "section_id": found[0]["id"]}],
        )
        content = client.canvases_getContent(canvas_id=canvas_id)["content"]
        assert "Detail" not in content and "## Other" in content
        fake.canvases.reserialise = True
        assert "* a" in client.canvases_getContent(canvas_id=canvas_id)["content"]
        client.canvases_delete(canvas_id=canvas_id)
        with pytest.raises(SlackApiError) as exc:
            client.canvases_getContent(canvas_id=canvas_id)
        assert exc.value.response["error"] == "canvas_not_found"
        assert fake.errors == []
