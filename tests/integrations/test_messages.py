"""Slack Block Kit and Teams Adaptive Card bodies, pure: structure and escaping of user text."""

from integrations.messages import slack_escape, slack_message, teams_escape, teams_message

SUMMARY = {"headline": "Story updated", "title": "Export <b>roadmap</b> & PDF",
           "facts": [["Status", "In progress"], ["Estimate", "5 points"]],
           "context": "Mobile app · Acme", "url": "https://pm.example.com/w/acme/products/1/backlog/stories/7/"}


def test_slack_escapes_exactly_ampersand_and_angle_brackets():
    assert slack_escape("a & b <!channel> <https://x|y>") == "a &amp; b &lt;!channel&gt; &lt;https://x|y&gt;"
    assert slack_escape("*bold* _it_") == "*bold* _it_"


def test_slack_message_is_block_kit_with_a_linked_title_facts_and_a_button():
    message = slack_message(SUMMARY)
    types = [b["type"] for b in message["blocks"]]
    assert types == ["header", "section", "section", "context", "actions"]
    assert message["blocks"][0]["text"] == {"type": "plain_text", "text": "Story updated", "emoji": False}
    assert message["blocks"][1]["text"]["text"] == (
        "*<https://pm.example.com/w/acme/products/1/backlog/stories/7/|Export &lt;b&gt;roadmap&lt;/b&gt; &amp; PDF>*")
    assert message["blocks"][2]["fields"][0] == {"type": "mrkdwn", "text": "*Status*\nIn progress"}
    assert message["blocks"][4]["elements"][0]["url"] == SUMMARY["url"]
    assert message["text"] == "Story updated: Export <b>roadmap</b> & PDF"  # notification text is plain


def test_slack_header_is_cut_to_the_block_limit():
    message = slack_message({**SUMMARY, "headline": "x" * 400})
    assert len(message["blocks"][0]["text"]["text"]) == 150


def test_teams_escapes_markdown_that_could_link_or_format():
    assert teams_escape("[win](https://evil.example)") == r"\[win\]\(https://evil\.example\)"
    assert teams_escape("**bold** _x_") == r"\*\*bold\*\* \_x\_"


def test_teams_message_is_an_adaptive_card_with_facts_and_an_open_url_action():
    message = teams_message(SUMMARY)
    assert message["type"] == "message"
    attachment = message["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert [b["type"] for b in card["body"]] == ["TextBlock", "TextBlock", "FactSet", "TextBlock"]
    assert card["body"][1]["text"] == r"Export <b\>roadmap</b\> & PDF" and card["body"][1]["weight"] == "Bolder"
    assert card["body"][2]["facts"][1] == {"title": "Estimate", "value": "5 points"}
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open in PMHub", "url": SUMMARY["url"]}]
