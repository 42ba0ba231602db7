"""The one filter backend of the API: django-filter with every id filter scoped to the user's
workspaces.

A `ModelChoiceFilter` (what `filterset_fields = ["product"]` makes for a foreign key) checks the
id against its queryset. Left at the model's default manager, an id of another workspace was a
valid choice (an empty 200) while a missing id was a 400: an existence oracle. Here every such
queryset is narrowed to the user's workspaces (the model's lookup to its workspace comes from
`pmhub.portability.workspace_paths`, the chain of foreign keys to `Workspace`), so a foreign id
is refused exactly like a missing one: 400, "Select a valid choice". A filter over a model with
no path to a workspace (content types) is left alone; users are scoped to the members of
the user's workspaces. See docs/decisions/1212.
"""

from functools import cache

from django_filters import rest_framework as filters

from ..access import workspace_ids_for


@cache
def _paths() -> dict:
    from django.contrib.auth import get_user_model

    from ..portability import workspace_paths

    # People are not workspace data, but naming one in a filter must not tell whether they exist:
    # the members of the user's workspaces are the valid choices.
    return workspace_paths() | {get_user_model(): "memberships__workspace"}


def scoped_choices(queryset, user):
    """`queryset` narrowed to the rows of `user`'s workspaces (unchanged for models outside any workspace)."""
    path = _paths().get(queryset.model)
    if path is None:
        return queryset
    return queryset.filter(**{f"{path}__in": workspace_ids_for(user)}).distinct()


def id_filters(filterset) -> dict:
    """{name: filter} of the filters that name rows by id (single or multiple choice)."""
    kinds = (filters.ModelChoiceFilter, filters.ModelMultipleChoiceFilter)
    return {name: f for name, f in filterset.filters.items() if isinstance(f, kinds)}


class ScopedFilterBackend(filters.DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        # DRF filters detail routes too (get_object): a list filter in the query string of
        # /measurements/<id>/ would answer 400 where the object's scope answers 404. Filters are
        # for lists; a detail route ignores them.
        if getattr(view, "detail", False):
            return queryset
        return super().filter_queryset(request, queryset, view)

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        for f in id_filters(filterset).values():
            # The filterset holds deep copies of its declared filters: narrowing them here
            # touches this request only.
            base = f.queryset
            if base is None:
                continue
            f.queryset = lambda req, base=base: scoped_choices(base(req) if callable(base) else base, req.user)
        return filterset
