"""Queryset helpers shared by the apps."""

from django.db import models


class AfterFetchQuerySet(models.QuerySet):
    """`after_fetch(fn)` calls fn(rows) once on the fetched rows (a page of an API list, a
    board), so figures that another app computes (work progress, from the backlog) are attached
    with one grouped query per page instead of a query per row, without this app importing it."""

    _after_fetch = ()

    def after_fetch(self, fn):
        clone = self._chain()
        clone._after_fetch = (*self._after_fetch, fn)
        return clone

    def without_after_fetch(self):
        """The same rows without the figures after_fetch attaches."""
        clone = self._chain()
        clone._after_fetch = ()
        return clone

    def _clone(self):
        clone = super()._clone()
        clone._after_fetch = self._after_fetch
        return clone

    def _fetch_all(self):
        fresh = self._result_cache is None
        super()._fetch_all()
        if fresh and self._after_fetch and self._result_cache:
            rows = [row for row in self._result_cache if isinstance(row, models.Model)]
            for fn in self._after_fetch:
                fn(rows)
