"""Parse HTML with html.parser and report anything a payload could run with.

Scripts must come from /static/. The one inline exception is a JSON data block
(`{{ value|json_script:"id" }}`: `<script type="application/json">`), which browsers never run;
its text must hold no `<` at all (json_script writes \\u003C), so nothing can close it early."""

from html.parser import HTMLParser

URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background"}


class _Checker(HTMLParser):
    def __init__(self, marker):
        super().__init__(convert_charrefs=True)
        self.marker, self.problems, self._in_script, self._in_data = marker, [], False, False

    def handle_starttag(self, tag, attrs):
        attrs = [(k.lower(), v or "") for k, v in attrs]
        if tag == "script":
            src, kind = dict(attrs).get("src", ""), dict(attrs).get("type", "").strip().lower()
            self._in_data = "src" not in dict(attrs) and kind == "application/json"
            if not self._in_data and (not src.startswith("/static/") or self.marker in src):
                self.problems.append(f"<script src={src!r}>")
            self._in_script = True
        if tag in ("iframe", "object", "embed", "base") and any(self.marker in v for _k, v in attrs):
            self.problems.append(f"<{tag}> from a payload")
        for key, value in attrs:
            if key.startswith("on"):
                self.problems.append(f"<{tag} {key}=...>")
            if key in URL_ATTRS:
                scheme = value.strip().replace("\t", "").replace("\n", "").lower()
                if scheme.startswith("javascript:") or scheme.startswith("vbscript:") or scheme.startswith("data:text/html"):
                    self.problems.append(f"<{tag} {key}={value!r}>")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = self._in_data = False

    def handle_data(self, data):
        if self._in_data:
            if "<" in data:
                self.problems.append(f"unescaped < in a JSON data block: {data[:80]!r}")
        elif self._in_script and self.marker in data:
            self.problems.append(f"script content with the payload: {data[:80]!r}")


def unsafe_parts(html: str, marker: str) -> list[str]:
    checker = _Checker(marker)
    checker.feed(html)
    checker.close()
    return checker.problems
