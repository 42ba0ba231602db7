"""The SCIM filter language (RFC 7644 §3.4.2.2), parsed into a small tree; no Django here.

    parse('userName eq "ada" and (emails co "@acme.com" or not (active eq false))')
    -> ("and", [("cmp", "username", "eq", "ada"), ("or", [...])])

Attribute paths come back lower-cased, without a schema URN prefix ("name.givenname");
which paths a resource filters on, and how, is decided by the selector. Anything outside the
grammar raises FilterError (a 400 with scimType invalidFilter).
"""

import re

OPERATORS = {"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"}
MAX_LENGTH = 2000
MAX_DEPTH = 20

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lpar>\()|(?P<rpar>\))|
        (?P<string>"(?:[^"\\]|\\.)*")|
        (?P<word>[A-Za-z0-9_:.$\-]+)
    )""",
    re.VERBOSE,
)
_URN = re.compile(r"^urn:ietf:params:scim:schemas:core:2\.0:(?:user|group):", re.IGNORECASE)


class FilterError(ValueError):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FilterError(f"Unexpected text at position {pos + 1}: {text[pos:pos + 20]!r}.")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _string(raw: str) -> str:
    body, out, i = raw[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            out.append(body[i + 1])
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def attribute_path(raw: str) -> str:
    """'urn:...:User:name.givenName' -> 'name.givenname'."""
    return _URN.sub("", raw).lower()


class _Parser:
    def __init__(self, tokens):
        self.tokens, self.i, self.depth = tokens, 0, 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None)

    def take(self):
        tok = self.peek()
        if tok[0] is None:
            raise FilterError("The filter ends too early.")
        self.i += 1
        return tok

    def keyword(self, word: str) -> bool:
        kind, value = self.peek()
        if kind == "word" and value.lower() == word:
            self.i += 1
            return True
        return False

    def expr(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FilterError("The filter is nested too deeply.")
        items = [self.term()]
        while self.keyword("or"):
            items.append(self.term())
        self.depth -= 1
        return items[0] if len(items) == 1 else ("or", items)

    def term(self):
        items = [self.factor()]
        while self.keyword("and"):
            items.append(self.factor())
        return items[0] if len(items) == 1 else ("and", items)

    def factor(self):
        if self.keyword("not"):
            return ("not", self.group())
        if self.peek()[0] == "lpar":
            return self.group()
        kind, path = self.take()
        if kind != "word":
            raise FilterError("Expected an attribute name.")
        op_kind, op = self.take()
        op = (op or "").lower()
        if op_kind != "word" or (op not in OPERATORS and op != "pr"):
            raise FilterError(f"Unknown operator {op!r}: use eq, ne, co, sw, ew, gt, ge, lt, le or pr.")
        if op == "pr":
            return ("pr", attribute_path(path))
        return ("cmp", attribute_path(path), op, self.value())

    def group(self):
        if self.take()[0] != "lpar":
            raise FilterError("Expected '('.")
        inner = self.expr()
        if self.peek()[0] != "rpar":
            raise FilterError("Expected ')'.")
        self.i += 1
        return inner

    def value(self):
        kind, raw = self.take()
        if kind == "string":
            return _string(raw)
        if kind == "word":
            low = raw.lower()
            if low in ("true", "false"):
                return low == "true"
            if low == "null":
                return None
            try:
                return int(raw) if re.fullmatch(r"-?\d+", raw) else float(raw)
            except ValueError:
                pass
        raise FilterError(f"Expected a value (a quoted string, a number, true, false or null), got {raw!r}.")


def parse(text: str):
    """The tree of a filter expression; FilterError when it is not one."""
    if not text or not text.strip():
        raise FilterError("The filter is empty.")
    if len(text) > MAX_LENGTH:
        raise FilterError(f"The filter is longer than {MAX_LENGTH} characters.")
    if "\x00" in text:
        raise FilterError("The filter cannot contain NUL characters.")
    parser = _Parser(_tokens(text))
    tree = parser.expr()
    if parser.peek()[0] is not None:
        raise FilterError(f"Unexpected {parser.peek()[1]!r} after the end of the filter.")
    return tree


def _text(value) -> str:
    return value.lower() if isinstance(value, str) else str(value).lower()


def matches(tree, element: dict) -> bool:
    """Whether one element of a multi-valued attribute (a dict such as {"value": .., "type": ..})
    passes a value filter: the `[type eq "work"]` of `emails[type eq "work"].value`. Strings
    compare case-insensitively (caseExact false for every attribute we serve)."""
    kind = tree[0]
    if kind == "and":
        return all(matches(t, element) for t in tree[1])
    if kind == "or":
        return any(matches(t, element) for t in tree[1])
    if kind == "not":
        return not matches(tree[1], element)
    lowered = {str(k).lower(): v for k, v in element.items()} if isinstance(element, dict) else {}
    actual = lowered.get(tree[1])
    if kind == "pr":
        return actual not in (None, "", [])
    _, _, op, expected = tree
    if op in ("eq", "ne"):
        same = (_text(actual) == _text(expected)) if isinstance(expected, str) else actual == expected
        return same if op == "eq" else not same
    if actual is None or expected is None:
        return False
    a, e = _text(actual), _text(expected)
    return {"co": e in a, "sw": a.startswith(e), "ew": a.endswith(e), "gt": a > e, "ge": a >= e,
            "lt": a < e, "le": a <= e}[op]
