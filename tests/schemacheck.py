"""`manage.py spectacular --validate`, run once per test process, with what --fail-on-warn fails on.

The reports, metrics and adoption tests each generated the whole OpenAPI document (every app's
API, about 1.3 MB) to check their part of it: the reports test through the command in-process,
the metrics test through the same command in a subprocess, the adoption test through the same
generator. The generation is the same for all three, so each process runs the command once and each
test asserts on the result (docs/decisions/2332). The command runs without --fail-on-warn so that it
prints the document even when some app has a warning (the adoption and metrics tests judge only
their own app's); `SchemaRun.problems` is what --fail-on-warn would have failed on.
"""

import functools
import io
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class SchemaRun:
    schema: dict | None  # the document, as the command printed it (None when it failed)
    text: str
    problems: tuple[str, ...]  # every warning and error of the generation (--fail-on-warn: any fails)
    failure: str | None  # the command's own error (--validate: the document breaks the OpenAPI schema)


@functools.cache
def spectacular_run() -> SchemaRun:
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from drf_spectacular.drainage import GENERATOR_STATS

    # drf-spectacular keeps the messages of every generation of the process (and prints each once):
    # start from none, so what is left afterwards is this generation's, as in a fresh process.
    GENERATOR_STATS.reset()
    out, err = io.StringIO(), io.StringIO()
    failure = None
    try:
        call_command("spectacular", "--validate", "--format", "openapi-json", stdout=out, stderr=err)
    except CommandError as exc:
        failure = f"{exc}: {err.getvalue()[-3000:]}"
    problems = (*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache)
    text = out.getvalue()
    return SchemaRun(json.loads(text) if text else None, text, problems, failure)
