"""Rank keys move to fractional indexing with an integer head (docs/decisions/1220-rank-keys-with-
integer-head.md): every product's stories get evenly spaced keys of the new format, in their
current order (rank, then id). Batched per product. Backwards: the old format's evenly spaced
keys (base-36 fractions that never end in "0"), again in the current order."""

from django.db import migrations


def _old_even_keys(n: int) -> list[str]:
    digits, width = "0123456789abcdefghijklmnopqrstuvwxyz", 1
    while 36**width <= n + 1:
        width += 1
    step, keys = 36**width // (n + 1), []
    for i in range(1, n + 1):
        value, chars = step * i, []
        for _ in range(width):
            value, r = divmod(value, 36)
            chars.append(digits[r])
        keys.append("".join(reversed(chars)).rstrip("0"))
    return keys


def _rekey(apps, even_keys):
    Story = apps.get_model("backlog", "Story")
    product_ids = Story.objects.order_by().values_list("product_id", flat=True).distinct()
    for product_id in product_ids.iterator():
        stories = list(Story.objects.filter(product_id=product_id).order_by("rank", "id").only("id", "rank"))
        # Out of the way first ("~" sorts after every key), then the final keys: the unique
        # (product, rank) constraint never sees a duplicate.
        for story in stories:
            story.rank = f"~{story.id}"
        Story.objects.bulk_update(stories, ["rank"], batch_size=1000)
        for story, key in zip(stories, even_keys(len(stories)), strict=True):
            story.rank = key
        Story.objects.bulk_update(stories, ["rank"], batch_size=1000)


def rekey(apps, schema_editor):
    from backlog.ranking import even_keys

    _rekey(apps, even_keys)


def rekey_backwards(apps, schema_editor):
    _rekey(apps, _old_even_keys)


class Migration(migrations.Migration):
    dependencies = [("backlog", "0004_story_rank_default")]

    operations = [migrations.RunPython(rekey, rekey_backwards, elidable=True)]
