"""Classes of hostile input, for the generated no-500 walks (test_input_classes.py).

Field values go into one field of an otherwise valid body; bodies replace the whole body. Each
class names what it stands for in the report of a failure.
"""

DEEP = 1000  # a 4 KB body nested this deep exploded Python's json recursion (500)


def _nested(depth: int):
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


FIELD_VALUES = {
    "far date": ["9999-12-31", "0001-01-01", "9999-12-31T23:59:59-12:00", "2200-13-45"],
    "huge number": [2**40, 2**63, 10**30, -(2**40), 1e308, -1e308, "1e308"],
    "not finite": ["NaN", "Infinity", "-Infinity"],
    "oversize string": ["x" * 200_000],
    "bad text": ["\x00", "a\x00b", "\ud800", "\udfff\ud800"],
    "deep value": [_nested(40), {"a": {"b": {"c": [1e308]}}}],
}

# (class, form value) for page forms: what a browser can send (no lone surrogates in form encoding)
PAGE_VALUES = [("far date", "9999-12-31"), ("far date", "0001-01-01T00:00"), ("huge number", str(2**40)),
               ("huge number", "1e308"), ("not finite", "NaN"), ("oversize string", "x" * 200_000),
               ("bad text", "a\x00b")]

# (class, content type, raw body)
RAW_BODIES = [
    ("deep JSON", "application/json", b"[" * DEEP + b"]" * DEEP),
    ("deep JSON", "application/json", b'{"a":' * DEEP + b"1" + b"}" * DEEP),
    ("not finite", "application/json", b'{"value": NaN, "points": Infinity}'),
    ("bad encoding", "application/json", b'{"name": "\xff\xfe\xc3("}'),
    ("bad encoding", "application/json", '\ufeff{"name": "utf-16"}'.encode("utf-16")),
    ("bad encoding", "application/json; charset=utf-16", '{"name": "x"}'.encode("utf-16-le")),
    ("bad encoding", "application/json; charset=bogus-8", b'{"name": "x"}'),
]

# (class, filename, file content) for file uploads
FILES = [
    ("bad encoding", "utf16.csv", "\ufeffSummary,Status\nA,To Do\n".encode("utf-16")),
    ("bad encoding", "utf16-nobom.csv", "Summary,Status\nA,To Do\n".encode("utf-16-le")),
    ("NUL bytes", "nul.csv", b"Summary,Status\nA\x00B,To Do\n"),
    ("oversize field", "big.csv", b"Summary,Status\n\"" + b"x" * 200_000 + b"\",To Do\n"),
    ("binary", "image.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8),
    ("binary", "zip.csv", b"PK\x03\x04" + bytes(range(256)) * 8),
]


# The first value of every class goes into every field. A class's further first values (the ones
# that answered 500 before) go into the fields of the kind that reads them: a second far date into
# date fields, more huge numbers into number and id fields, more bad text into text fields. A field
# of no known kind (a body-only field, a list, a nested object, a hidden input) gets them all.
FIRST = {"far date": 2, "huge number": 3, "not finite": 1, "oversize string": 1, "bad text": 3, "deep value": 1}
KIND_OF_CLASS = {"far date": "date", "huge number": "number", "bad text": "text"}


def api_field_kind(field) -> str | None:
    """"date", "number", "text", "other", or None (unknown: every value) for a DRF serializer field."""
    from rest_framework import fields as f
    from rest_framework import relations

    if isinstance(field, (f.DateField, f.DateTimeField, f.TimeField, f.DurationField)):
        return "date"
    if isinstance(field, (f.IntegerField, f.FloatField, f.DecimalField, relations.RelatedField)):
        return "number"
    if isinstance(field, f.CharField):
        return "text"
    if isinstance(field, (f.BooleanField, f.ChoiceField, f.FileField)) and not isinstance(field, f.MultipleChoiceField):
        return "other"
    return None


def field_cases(fields, *, every_value: bool = False):
    """[(class, field, value)] for every class in every field. `fields`: {name: kind} (see
    api_field_kind; a plain list means kind unknown). By default the first values of each class as
    the comment above deals them; with `every_value` (INPUT_CLASSES=all) all of them everywhere."""
    kinds = fields if isinstance(fields, dict) else dict.fromkeys(fields)
    cases = []
    for name in sorted(kinds):
        for cls, values in FIELD_VALUES.items():
            if every_value:
                chosen = values
            elif kinds[name] is None or KIND_OF_CLASS.get(cls) == kinds[name]:
                chosen = values[: FIRST[cls]]
            else:
                chosen = values[:1]
            cases.extend((cls, name, value) for value in chosen)
    return cases


# Page forms: the same dealing by the kind an input says it is (its type attribute).
PAGE_INPUT_KINDS = {"date": "date", "datetime-local": "date", "time": "date", "month": "date", "week": "date",
                    "number": "number", "range": "number", "text": "text", "search": "text", "email": "text",
                    "url": "text", "tel": "text", "password": "text", "textarea": "text"}


def page_field_cases(fields):
    """[(class, field, value)] for page form fields {name: input kind or None}: the first value of
    each class of PAGE_VALUES in every field, the others in fields of their kind or of no known kind."""
    cases = []
    for name in sorted(fields):
        seen = set()
        for cls, value in PAGE_VALUES:
            kind = fields[name]
            if cls in seen and kind is not None and KIND_OF_CLASS.get(cls) != kind:
                continue
            seen.add(cls)
            cases.append((cls, name, value))
    return cases
