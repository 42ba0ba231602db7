"""Markdown <-> Jira wiki markup (Jira Data Center's description format), the same small subset as
adf.py (docs/decisions/1718). Written here, not a library: the subset is what PMHub produces and
accepts, and both directions must be deterministic for the sync's fingerprints.

Both directions go through adf.py's document tree, so the two formats cannot drift apart:
    Markdown --md_to_adf--> ADF --adf_to_wiki--> wiki markup
    wiki markup --wiki_to_adf--> ADF --adf_to_md--> Markdown
and `wiki_to_md(md_to_wiki(text)) == normalize(text)` (a description PMHub sent to Data Center does
not come back as a change), `md_to_wiki(wiki_to_md(w))` is stable after one pass.

Wiki markup read: h1. to h6. headings; `* `/`- ` bullets and `# ` numbered items (deeper levels
`** `, `## ` become items of the one level); {code[:lang]} / {noformat} blocks; *bold*, _italic_,
{{monospace}}, [text|https://link] and [https://link]. Anything else is kept as its text.
"""

from __future__ import annotations

import re

from .adf import adf_to_md, blocks_to_adf, md_to_adf

_HEADING = re.compile(r"^h([1-6])\.\s+(.*)$")
_BULLET = re.compile(r"^[*-]+\s+(.*)$")
_ORDERED = re.compile(r"^#+\s+(.*)$")
_CODE_OPEN = re.compile(r"^\{(code|noformat)(?::(?:language=)?([\w+-]*))?[^}]*\}\s*(.*)$")
# Characters escaped with a backslash in text (Jira renders "\*" as "*"), so plain text that looks
# like markup stays text; a block that would start like a heading or a list item is escaped too.
_ESCAPE = re.compile(r"([\\*_{}\[\]|])")
_LINE_START = re.compile(r"^(h[1-6](?=\.\s)|[#*-]+(?=\s))")
_INLINE = re.compile(
    r"(?P<esc>\\(?P<char>[\\*_{}\[\]|#.-]))"
    r"|(?P<code>\{\{(?P<ctext>(?:\\.|[^\\\n])+?)\}\})"
    r"|(?P<link>\[(?:(?P<ltext>(?:\\.|[^\]|\n\\])+)\|)?(?P<href>(?:https?://|mailto:)[^\]\s|]+)\])"
    r"|(?P<bold>(?<![\w*])\*(?=\S)(?P<btext>(?:\\.|[^*\n\\])+?)(?<=\S)\*(?![\w*]))"
    r"|(?P<italic>(?<![\w_])_(?=\S)(?P<itext>(?:\\.|[^_\n\\])+?)(?<=\S)_(?![\w_]))"
)


# --- ADF -> wiki ----------------------------------------------------------------------------------
def _marks_wiki(node: dict) -> str:
    text = str(node.get("text") or "")
    marks = {m.get("type"): m for m in node.get("marks") or [] if isinstance(m, dict)}
    if not text:
        return ""
    text = _ESCAPE.sub(r"\\\1", text)
    if "code" in marks:
        text = "{{" + text + "}}"
    if "em" in marks:
        text = f"_{text}_"
    if "strong" in marks:
        text = f"*{text}*"
    href = str(((marks.get("link") or {}).get("attrs") or {}).get("href") or "")
    if "link" in marks and re.match(r"^(https?://|mailto:)[^\s|\]]+$", href):
        text = f"[{text}|{href}]"
    return text


def _inline_wiki(nodes, *, block: bool = False) -> str:
    text = "".join(
        _marks_wiki(n) if n.get("type") == "text" else _inline_wiki(n.get("content"))
        for n in nodes or []
        if isinstance(n, dict)
    )
    if block:  # a paragraph that would read as a heading, a list item or a {code} block
        text = _LINE_START.sub(
            lambda m: "h" + m.group(1)[1] + "\\" if m.group(1).startswith("h") else "\\" + m.group(1), text, count=1
        )
    return text


def adf_to_wiki(doc: dict) -> str:
    blocks = []
    for node in doc.get("content") or []:
        kind, content = node.get("type"), node.get("content") or []
        if kind == "heading":
            blocks.append(f"h{(node.get('attrs') or {}).get('level', 1)}. " + _inline_wiki(content))
        elif kind == "codeBlock":
            language = (node.get("attrs") or {}).get("language") or ""
            opener = "{code:" + language + "}" if language else "{code}"
            blocks.append(opener + "\n" + "".join(str(n.get("text") or "") for n in content) + "\n{code}")
        elif kind in ("bulletList", "orderedList"):
            bullet = "*" if kind == "bulletList" else "#"
            items = (" ".join(_inline_wiki(p.get("content")) for p in item.get("content") or []) for item in content)
            blocks.append("\n".join(f"{bullet} {text}" for text in items))
        else:
            blocks.append(_inline_wiki(content, block=True))
    return "\n\n".join(b for b in blocks if b.strip())


def md_to_wiki(markdown: str) -> str:
    """A Markdown description as Jira wiki markup ("" for an empty one)."""
    return adf_to_wiki(md_to_adf(markdown or ""))


# --- wiki -> ADF ----------------------------------------------------------------------------------
def _text(text: str, marks: tuple) -> dict:
    node = {"type": "text", "text": text}
    if marks:
        node["marks"] = list(marks)
    return node


def _inline(text: str, marks: tuple = ()) -> list[dict]:
    out, pos = [], 0
    for m in _INLINE.finditer(text):
        if m.start() > pos:
            out.append(_text(text[pos : m.start()], marks))
        if m.group("esc"):
            out.append(_text(m.group("char"), marks))
        elif m.group("code"):
            out.append(_text(_unescape(m.group("ctext")), (*marks, {"type": "code"})))
        elif m.group("link"):
            link = {"type": "link", "attrs": {"href": m.group("href")}}
            out.extend(_inline(m.group("ltext") or m.group("href"), (*marks, link)))
        elif m.group("bold"):
            out.extend(_inline(m.group("btext"), (*marks, {"type": "strong"})))
        else:
            out.extend(_inline(m.group("itext"), (*marks, {"type": "em"})))
        pos = m.end()
    if pos < len(text):
        out.append(_text(text[pos:], marks))
    merged: list[dict] = []  # an escaped character splits no text: neighbours with the same marks join
    for node in (n for n in out if n["text"]):
        if merged and merged[-1].get("marks") == node.get("marks"):
            merged[-1] = {**merged[-1], "text": merged[-1]["text"] + node["text"]}
        else:
            merged.append(node)
    return merged


def _unescape(text: str) -> str:
    return re.sub(r"\\([\\*_{}\[\]|#.-])", r"\1", text)


def _wiki_code(lines: list[str], i: int):
    opener = _CODE_OPEN.match(lines[i].strip())
    if not opener:
        return None
    closer = "{" + opener.group(1) + "}"
    rest = opener.group(3)
    i += 1
    if rest.endswith(closer):  # {code}one line{code}
        code = [rest[: -len(closer)]] if rest[: -len(closer)] else []
    else:
        code = [rest] if rest else []
        while i < len(lines) and lines[i].strip() != closer:
            code.append(lines[i])
            i += 1
        i += 1
    node = {"type": "codeBlock", "content": [{"type": "text", "text": "\n".join(code)}] if code else []}
    if opener.group(2):
        node["attrs"] = {"language": opener.group(2)}
    return node, i


def _wiki_heading(stripped: str):
    heading = _HEADING.match(stripped)
    return (int(heading.group(1)), heading.group(2)) if heading else None


def wiki_to_adf(wiki: str) -> dict:
    return blocks_to_adf(
        wiki, code_block=_wiki_code, heading=_wiki_heading, bullet=_BULLET, ordered=_ORDERED, inline=_inline
    )


def wiki_to_md(wiki) -> str:
    """Jira wiki markup (or None) as Markdown."""
    if not isinstance(wiki, str) or not wiki.strip():
        return ""
    return adf_to_md(wiki_to_adf(wiki))
