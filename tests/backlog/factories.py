"""Backlog test data, created through the services so ranks and scores are real."""

from backlog import services


def make_stories(product, n, *, actor, **extra):
    rows = [{"title": f"Story {i + 1}", **extra} for i in range(n)]
    return services.stories_bulk_create(actor=actor, product=product, stories=rows)


def ranked_titles(product):
    from backlog.models import Story

    return list(Story.objects.filter(product=product).order_by("rank").values_list("title", flat=True))


HOSTILE = '<script>alert("x")</script> & Zoë’s 🚀 \u2028'


def hostile_story(product, actor, *, text: str = HOSTILE, criterion: bool = True, **extra):
    """The second of three stories, given an epic, an assignee and every kind of value a printer of
    story JSON must keep byte for byte: hostile text, decimals, a fractional timestamp, custom values
    with a null, and (unless `criterion` is False) an acceptance criterion. `extra` sets more columns."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from backlog.models import Epic, Story

    epic = Epic.objects.create(product=product, title=f"Épique {text}")
    story = make_stories(product, 3, actor=actor)[1]
    Story.objects.filter(pk=story.pk).update(
        epic=epic, assignee=actor, title=text, description=text, labels=["ux", text],
        score_inputs={"reach": 1000, "impact": 2.5, "confidence": 80, "effort": 4}, score=Decimal("12345.6789"),
        demand=Decimal("7.50"), custom_values={"team": text, "size": 3.25, "none": None},
        done_at=datetime(2026, 3, 1, 23, 59, 58, 123456, tzinfo=UTC), moscow="must", **extra)
    if criterion:
        services.criterion_add(actor=actor, story=Story.objects.select_related("product").get(pk=story.pk),
                               text=f"Première {text}")
    return Story.objects.get(pk=story.pk)
