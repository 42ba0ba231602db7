"""Custom field validation per type (errors keyed cf_<key>)."""

import pytest
from django.core.exceptions import ValidationError

from backlog.customfields import clean_values, validate_definition
from backlog.models import CustomField


def f(key, type, options=None, required=False):
    return CustomField(key=key, label=key.title(), type=type, options=options or [], required=required)


FIELDS = [f("note", "text"), f("cost", "number"), f("tier", "single_select", ["gold", "silver"]),
          f("tags", "multi_select", ["a", "b", "c"]), f("due", "date"), f("owner", "user"), f("spec", "url")]


def test_valid_values_are_normalised():
    values = clean_values(fields=FIELDS, member_ids={7}, values={
        "note": " hi ", "cost": "12.50", "tier": "gold", "tags": ["a", "c", "a"], "due": "2026-12-01",
        "owner": "7", "spec": "https://example.com/spec"})
    assert values == {"note": "hi", "cost": 12.5, "tier": "gold", "tags": ["a", "c"], "due": "2026-12-01",
                      "owner": 7, "spec": "https://example.com/spec"}


@pytest.mark.parametrize("key,value", [
    ("cost", "twelve"), ("cost", True), ("tier", "bronze"), ("tags", ["z"]), ("due", "31/12/2026"),
    ("owner", 99), ("owner", "x"), ("spec", "javascript:alert(1)"), ("spec", "not a url"), ("unknown", "x"),
])
def test_invalid_values_are_field_errors(key, value):
    with pytest.raises(ValidationError) as exc:
        clean_values(fields=FIELDS, member_ids={7}, values={key: value})
    assert list(exc.value.message_dict) == [f"cf_{key}"]


def test_required_field_must_have_a_value():
    fields = [f("team", "text", required=True)]
    with pytest.raises(ValidationError) as exc:
        clean_values(fields=fields, member_ids=set(), values={})
    assert "Team is required." in exc.value.message_dict["cf_team"]


def test_empty_value_clears():
    assert clean_values(fields=FIELDS, member_ids=set(), values={"cost": ""}, current={"cost": 3}) == {}


def test_definition_validation():
    assert validate_definition(key="Bad Key", label="", type="nope", options=None).keys() == {"key", "label", "type"}
    assert "options" in validate_definition(key="tier", label="Tier", type="single_select", options=[])
    assert validate_definition(key="tier", label="Tier", type="single_select", options=["a"]) == {}
