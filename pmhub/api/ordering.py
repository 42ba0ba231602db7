"""`?ordering=` for API lists: the choices a viewset declares (`orderings`, a pmhub.ordering.Orderings),
nothing else. An unknown value is a 400 that names the allowed ones, never silently ignored."""

from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend


class OrderingFilter(BaseFilterBackend):
    """Orders by the view's `orderings`; missing figures come last in both directions (see
    pmhub/ordering.py). Also tells CursorPagination which columns to page on (`get_ordering`)."""

    param = "ordering"

    def ordering_name(self, request, view) -> str:
        """The `?ordering=` the request names (the default without one); unknown: 400."""
        return self._name(request, view)

    def _name(self, request, view) -> str:
        orderings = view.orderings
        value = request.query_params.get(self.param, "")
        if not value:
            return orderings.default
        if value not in orderings.choices:
            raise ValidationError({self.param: [
                f"Unknown ordering {value[:50]!r}. Choose one of: {', '.join(orderings.names())}."]})
        return value

    def filter_queryset(self, request, queryset, view):
        queryset, columns = view.orderings.annotated(queryset, self._name(request, view))
        return queryset.order_by(*columns)

    def get_ordering(self, request, queryset, view):
        # Read by rest_framework.pagination.CursorPagination; the annotation is made in filter_queryset
        # (the queryset may be values() of it by now, which cannot be annotated again).
        return view.orderings.columns(self._name(request, view))

    def get_schema_operation_parameters(self, view):
        names = view.orderings.names()
        return [{
            "name": self.param, "required": False, "in": "query",
            "description": f"One of {', '.join(names)} (default {view.orderings.default}). "
                           "Items without the figure come last in both directions.",
            "schema": {"type": "string", "enum": names},
        }]
