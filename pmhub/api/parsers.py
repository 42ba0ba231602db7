"""The API's JSON parser: DRF's, bounded in size and depth before any parsing (pmhub.jsonsafe).

The size is checked on the bytes actually read, so a body sent without Content-Length (chunked)
is bounded too; RequestSizeLimitMiddleware already refuses a declared length over the limit.
"""

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from ..jsonsafe import JsonRefused, loads_bounded
from .limits import PayloadTooLarge


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise PayloadTooLarge(f"The request body is larger than the limit of {limit} bytes.")
        encoding = parsers.get_encoding(parser_context or {})
        try:
            if encoding.lower().replace("-", "") != "utf8":
                raw = raw.decode(encoding).encode("utf-8")
            return loads_bounded(raw)
        except (JsonRefused, UnicodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - {exc}")
