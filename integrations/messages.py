"""Chat messages, pure: a summary (title, facts, link) becomes a Slack Block Kit message or a
Microsoft Teams Adaptive Card. No Django here; the summary's values are already formatted for
people (pmhub.formatting) by integrations.summaries. See docs/decisions/1702-chat-messages.md.

User text (a story title) is data, never markup:
- Slack mrkdwn gives meaning to `&`, `<` and `>` only (links, mentions such as `<!channel>`):
  they are escaped as `&amp;`, `&lt;`, `&gt;`, as Slack documents. `*`, `_`, `~` would merely
  format, so they are left alone.
- Adaptive Card TextBlocks render a Markdown subset (bold, italic, links, lists); a title such as
  `[win](https://evil)` must not become a link, so Markdown's punctuation is backslash-escaped.
  HTML is not rendered by Adaptive Cards; `<` and `&` stay as typed (`>` is escaped: a quote).
"""

from __future__ import annotations

import re

SLACK_TEXT_LIMIT = 3000  # a section block's text
SLACK_HEADER_LIMIT = 150  # plain_text of a header block
_TEAMS_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!>~|])")


def slack_escape(text: str) -> str:
    """Slack mrkdwn: `&`, `<`, `>` become entities (in this order, so `&lt;` is not escaped twice)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def teams_escape(text: str) -> str:
    """Adaptive Card TextBlock Markdown: punctuation that could format or link is backslash-escaped."""
    return _TEAMS_MARKDOWN.sub(r"\\\1", str(text))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_message(summary: dict) -> dict:
    """Block Kit: a header (plain text), a section with the linked title and the facts as fields,
    a context line, and `text` as the notification fallback."""
    title = summary["title"]
    url = summary["url"]
    facts = summary.get("facts") or []
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(summary["headline"], SLACK_HEADER_LIMIT),
                                    "emoji": False}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _cut(f"*<{url}|{slack_escape(title)}>*",
                                                                      SLACK_TEXT_LIMIT)}},
    ]
    if facts:
        blocks.append({"type": "section", "fields": [
            {"type": "mrkdwn", "text": _cut(f"*{slack_escape(label)}*\n{slack_escape(value)}", 2000)}
            for label, value in facts[:10]]})  # Slack allows ten fields per section
    if summary.get("context"):
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": slack_escape(summary["context"])}]})
    blocks.append({"type": "actions", "elements": [
        {"type": "button", "text": {"type": "plain_text", "text": "Open in PMHub"}, "url": url}]})
    return {"text": _cut(f"{summary['headline']}: {title}", SLACK_TEXT_LIMIT), "blocks": blocks,
            "unfurl_links": False}


def teams_message(summary: dict) -> dict:
    """An Adaptive Card 1.4 in a Teams message (what incoming webhooks and Workflows accept)."""
    body: list[dict] = [
        {"type": "TextBlock", "text": teams_escape(summary["headline"]), "size": "Small", "isSubtle": True,
         "wrap": True},
        {"type": "TextBlock", "text": teams_escape(summary["title"]), "size": "Medium", "weight": "Bolder",
         "wrap": True},
    ]
    facts = summary.get("facts") or []
    if facts:
        body.append({"type": "FactSet", "facts": [{"title": teams_escape(label), "value": teams_escape(value)}
                                                  for label, value in facts]})
    if summary.get("context"):
        body.append({"type": "TextBlock", "text": teams_escape(summary["context"]), "isSubtle": True, "wrap": True,
                     "size": "Small"})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": [{"type": "Action.OpenUrl", "title": "Open in PMHub", "url": summary["url"]}],
    }
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}
