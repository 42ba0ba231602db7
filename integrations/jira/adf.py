"""Markdown <-> Atlassian Document Format (ADF), the small subset PMHub's descriptions use.

Blocks: paragraphs, headings (# to ######), bullet and ordered lists (one level, `- `/`* `/`1. `),
fenced code blocks (```lang). Inline: **bold**, *italic* / _italic_, `code`, [text](https://link).
ADF is Jira Cloud's rich-text JSON (https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/):
{"type": "doc", "version": 1, "content": [...]}. Anything outside the subset read from Jira (tables,
panels, mentions, media) becomes its plain text, so nothing a Jira user wrote is lost silently.

Both directions are pure and deterministic: `adf_to_md(md_to_adf(text)) == normalize(text)`, which
the sync's fingerprints rely on (a description PMHub sent does not come back as a change).
"""

from __future__ import annotations

import re

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^[-*]\s+(.*)$")
_ORDERED = re.compile(r"^\d{1,9}[.)]\s+(.*)$")
_FENCE = re.compile(r"^```\s*([\w+-]*)\s*$")
_INLINE = re.compile(
    r"(?P<code>`[^`\n]+`)"
    r"|(?P<link>\[(?P<ltext>[^\]\n]+)\]\((?P<href>https?://[^\s)]+|mailto:[^\s)]+)\))"
    r"|(?P<bold>\*\*(?=\S)(?P<btext>.+?)(?<=\S)\*\*)"
    r"|(?P<italic>(?<![\w*])\*(?=\S)(?P<itext>[^*\n]+?)(?<=\S)\*(?![\w*])|(?<![\w_])_(?=\S)(?P<utext>[^_\n]+?)(?<=\S)_(?![\w_]))"
)
MAX_NODES = 20_000


def _text(text: str, marks: list | None = None) -> dict:
    node = {"type": "text", "text": text}
    if marks:
        node["marks"] = marks
    return node


def _inline(text: str, marks: tuple = ()) -> list[dict]:
    """Inline Markdown to ADF text nodes with marks (bold inside a link and the like nest)."""
    out: list[dict] = []
    pos = 0
    for m in _INLINE.finditer(text):
        if m.start() > pos:
            out.append(_text(text[pos : m.start()], list(marks)))
        if m.group("code"):
            out.append(_text(m.group("code")[1:-1], [*marks, {"type": "code"}]))
        elif m.group("link"):
            out.extend(_inline(m.group("ltext"), (*marks, {"type": "link", "attrs": {"href": m.group("href")}})))
        elif m.group("bold"):
            out.extend(_inline(m.group("btext"), (*marks, {"type": "strong"})))
        else:
            out.extend(_inline(m.group("itext") or m.group("utext"), (*marks, {"type": "em"})))
        pos = m.end()
    if pos < len(text):
        out.append(_text(text[pos:], list(marks)))
    return [n for n in out if n["text"]]


def blocks_to_adf(text: str, *, code_block, heading, bullet, ordered, inline) -> dict:
    """A text of blocks (paragraphs, headings, bullet and numbered lists, code blocks) as an ADF
    document: the one block walker of Markdown (md_to_adf) and wiki markup (wiki.wiki_to_adf), which
    differ only in their patterns. `code_block(lines, i)` answers (node, next i) or None,
    `heading(stripped line)` (level, text) or None; `bullet`/`ordered` match an item and capture its text."""
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    content: list[dict] = []
    paragraph: list[str] = []
    i = 0

    def flush():
        if paragraph:
            content.append({"type": "paragraph", "content": inline(" ".join(s.strip() for s in paragraph))})
            paragraph.clear()

    while i < len(lines):
        code = code_block(lines, i)
        if code:
            flush()
            node, i = code
            content.append(node)
            continue
        stripped = lines[i].strip()
        if not stripped:
            flush()
            i += 1
            continue
        title = heading(stripped)
        if title:
            flush()
            content.append({"type": "heading", "attrs": {"level": title[0]}, "content": inline(title[1].strip())})
            i += 1
            continue
        for pattern, kind in ((bullet, "bulletList"), (ordered, "orderedList")):
            if pattern.match(stripped):
                flush()
                items = []
                while i < len(lines) and pattern.match(lines[i].strip()):
                    item = pattern.match(lines[i].strip()).group(1)
                    items.append({"type": "listItem", "content": [{"type": "paragraph", "content": inline(item)}]})
                    i += 1
                node = {"type": kind, "content": items}
                if kind == "orderedList":
                    node["attrs"] = {"order": 1}
                content.append(node)
                break
        else:
            paragraph.append(lines[i])
            i += 1
    flush()
    return {"type": "doc", "version": 1, "content": content}


def _fenced_code(lines: list[str], i: int):
    fence = _FENCE.match(lines[i].strip())
    if not fence:
        return None
    code: list[str] = []
    i += 1
    while i < len(lines) and lines[i].strip() != "```":
        code.append(lines[i])
        i += 1
    node = {"type": "codeBlock", "content": [_text("\n".join(code))] if code else []}
    if fence.group(1):
        node["attrs"] = {"language": fence.group(1)}
    return node, i + 1  # past the closing fence (or the end)


def _md_heading(stripped: str):
    heading = _HEADING.match(stripped)
    return (len(heading.group(1)), heading.group(2)) if heading else None


def md_to_adf(markdown: str) -> dict:
    """A Markdown description as an ADF document (empty text: an empty document)."""
    return blocks_to_adf(
        markdown, code_block=_fenced_code, heading=_md_heading, bullet=_BULLET, ordered=_ORDERED, inline=_inline
    )


def _marks_md(node: dict) -> str:
    text = str(node.get("text") or "")
    marks = {m.get("type"): m for m in node.get("marks") or [] if isinstance(m, dict)}
    if not text:
        return ""
    if "code" in marks:
        text = f"`{text}`"
    if "em" in marks:
        text = f"*{text}*"
    if "strong" in marks:
        text = f"**{text}**"
    link = marks.get("link")
    href = str(((link or {}).get("attrs") or {}).get("href") or "")
    if link and re.match(r"^(https?://|mailto:)\S+$", href) and ")" not in href:
        text = f"[{text}]({href})"
    return text


def _inline_md(nodes: list, budget: list) -> str:
    out = []
    for node in nodes or []:
        budget[0] -= 1
        if budget[0] < 0 or not isinstance(node, dict):
            break
        kind = node.get("type")
        if kind == "text":
            out.append(_marks_md(node))
        elif kind == "hardBreak":
            out.append(" ")
        elif kind in ("mention", "emoji", "status", "date", "inlineCard"):
            attrs = node.get("attrs") or {}
            out.append(str(attrs.get("text") or attrs.get("shortName") or attrs.get("url") or ""))
        else:
            out.append(_inline_md(node.get("content") or [], budget))
    return "".join(out)


def _block_md(node: dict, budget: list) -> str:
    kind = node.get("type")
    content = node.get("content") or []
    if kind == "paragraph":
        return _inline_md(content, budget)
    if kind == "heading":
        level = (node.get("attrs") or {}).get("level")
        level = level if isinstance(level, int) and 1 <= level <= 6 else 1
        return "#" * level + " " + _inline_md(content, budget)
    if kind == "codeBlock":
        language = str((node.get("attrs") or {}).get("language") or "")
        language = language if re.fullmatch(r"[\w+-]*", language) else ""
        return f"```{language}\n" + "".join(str(n.get("text") or "") for n in content if isinstance(n, dict)) + "\n```"
    if kind in ("bulletList", "orderedList"):
        lines = []
        for n, item in enumerate(content, start=1):
            if not isinstance(item, dict):
                continue
            text = " ".join(_block_md(c, budget) for c in item.get("content") or [] if isinstance(c, dict))
            lines.append(("- " if kind == "bulletList" else f"{n}. ") + text.replace("\n", " "))
        return "\n".join(lines)
    # Anything else (tables, panels, quotes, rules, media): its text, kept as a paragraph.
    return " ".join(
        filter(
            None,
            (
                _block_md(c, budget) if c.get("content") is not None or c.get("type") != "text" else _marks_md(c)
                for c in content
                if isinstance(c, dict)
            ),
        )
    )


def adf_to_md(doc) -> str:
    """An ADF document (or None) as Markdown; plain strings (Jira Data Center) pass through."""
    if doc is None:
        return ""
    if isinstance(doc, str):
        return normalize(doc)
    if not isinstance(doc, dict):
        return ""
    budget = [MAX_NODES]
    blocks = [_block_md(n, budget) for n in doc.get("content") or [] if isinstance(n, dict)]
    return "\n\n".join(b for b in blocks if b.strip())


def normalize(markdown: str) -> str:
    """The Markdown as it comes back from Jira: what fingerprints compare."""
    return adf_to_md(md_to_adf(markdown)) if markdown and markdown.strip() else ""
