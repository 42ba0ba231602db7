"""Backlog test data, created through the services so ranks and scores are real."""

from backlog import services


def make_stories(product, n, *, actor, **extra):
    rows = [{"title": f"Story {i + 1}", **extra} for i in range(n)]
    return services.stories_bulk_create(actor=actor, product=product, stories=rows)


def ranked_titles(product):
    from backlog.models import Story

    return list(Story.objects.filter(product=product).order_by("rank").values_list("title", flat=True))
