"""No existence oracle in list filters, generated from the filtersets of every API viewset.

For every filter parameter of every list endpoint that names a row by id (the `ModelChoiceFilter`s
that `filterset_fields` makes for foreign keys, declared choice filters, and plain number filters
on a foreign key), an id of another workspace must be answered exactly like an id that does not
exist (same status, same body), and an id of our own workspace must be accepted (200): the
acceptance twin that proves the filter was really tried. A filter parameter that names no row
(text, choices, numbers, dates) cannot leak an id and is only counted.
"""

import pytest
from django.core.exceptions import FieldDoesNotExist
from django.urls import reverse
from django_filters import rest_framework as filters

from pmhub.api.filters import ScopedFilterBackend, _paths, id_filters

from .massassign import foreign_world
from .matrix import api_list_routes

pytestmark = pytest.mark.django_db


def _filterset_class(route):
    view = route.viewset()
    view.action = "list"
    view.swagger_fake_view = True  # the queryset's model without a request (scoped views answer .none())
    view.request = None
    view.format_kwarg = None
    try:
        queryset = view.get_queryset()
    except Exception:  # a view that needs its request even for the model: use its declared queryset
        queryset = route.viewset.queryset
    if queryset is None:
        return None
    return ScopedFilterBackend().get_filterset_class(view, queryset)


def _target_model(model, field_name):
    """The model a filter's field path ends on when that end is a foreign key (or the pk), else None."""
    current = model
    parts = field_name.split("__")
    for i, part in enumerate(parts):
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            if part.endswith("_id") and i == len(parts) - 1:
                field = current._meta.get_field(part[:-3])
            else:
                return None
        if field.is_relation:
            current = field.related_model
        elif field.primary_key and i == len(parts) - 1:
            return current
        else:
            return None
    return current


def filter_parameters():
    """[(route, parameter name, model named or None)] over every list endpoint with a filterset."""
    rows = []
    for route in api_list_routes():
        if route.mapping.get("get") != "list":
            continue  # custom list actions take their own query parameters (their serializers validate them)
        filterset_class = _filterset_class(route)
        if filterset_class is None:
            continue
        filterset = filterset_class(data={}, queryset=filterset_class._meta.model._default_manager.none())
        choices = id_filters(filterset)
        for name, f in filterset.filters.items():
            if name in choices:
                target = f.queryset.model
            elif isinstance(f, filters.NumberFilter) and f.lookup_expr == "exact":
                target = _target_model(filterset_class._meta.model, f.field_name)
            else:
                target = None
            rows.append((route, name, target))
    return rows


PARAMETERS = filter_parameters()
ID_PARAMETERS = [(r, name, target) for r, name, target in PARAMETERS if target is not None]


def test_every_id_filter_is_scoped():
    """A choice filter over a model with no way to its workspace would stay an oracle."""
    unscoped = [f"{r.basename}?{name} ({target.__name__})" for r, name, target in ID_PARAMETERS
                if target not in _paths()]
    assert not unscoped, f"Id filters over models without a workspace path: {unscoped}"
    print(f"filter oracle: {len(ID_PARAMETERS)} id parameters on "
          f"{len({r.basename for r, _n, _t in ID_PARAMETERS})} endpoints, of {len(PARAMETERS)} filter parameters")


def _row_of(world, target, user):
    from django.contrib.auth import get_user_model

    if target is get_user_model():
        return user
    return world.get(target._meta.label)


@pytest.fixture
def worlds(workspace, other_workspace, admin, outsider):
    return {"ours": foreign_world(workspace), "theirs": foreign_world(other_workspace)}


@pytest.mark.parametrize("route,name,target", ID_PARAMETERS,
                         ids=[f"{r.basename}?{name}" for r, name, _t in ID_PARAMETERS])
def test_foreign_id_in_filter_is_answered_like_a_missing_id(route, name, target, worlds, admin, outsider, api_as):
    ours = _row_of(worlds["ours"], target, admin)
    theirs = _row_of(worlds["theirs"], target, outsider)
    assert ours is not None and theirs is not None, f"foreign_world makes no {target._meta.label}: add one"
    missing = target._default_manager.order_by("-pk").values_list("pk", flat=True).first() + 1000
    client = api_as(admin)
    url = reverse(route.url_name)

    accepted = client.get(url, {name: ours.pk})
    foreign = client.get(url, {name: theirs.pk})
    absent = client.get(url, {name: missing})

    assert accepted.status_code == 200, accepted.content[:500]
    assert foreign.status_code == absent.status_code, (foreign.status_code, absent.status_code)
    assert foreign.content.replace(str(theirs.pk).encode(), b"<id>") == \
        absent.content.replace(str(missing).encode(), b"<id>"), (foreign.content[:500], absent.content[:500])
