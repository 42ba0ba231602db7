"""Mass-assignment walk entries of the backlog app (format: Write in massassign.py)."""

from backlog.models import Story

from . import matrix_backlog as m
from .massassign import Write


def _neighbour(story):
    return Story.objects.filter(product_id=story.product_id).exclude(id=story.id).order_by("rank").first()


WRITES = {
    "story": Write(
        bodies={"create": lambda s: {"product": s.product_id, "title": "New story", "points": 3},
                "update": lambda s: {"title": "Renamed", "version": s.version},
                "move": lambda s: {"after": _neighbour(s).id},
                "bulk": lambda s: {"product": s.product_id, "ids": [s.id], "add_labels": ["triaged"]},
                "comments": lambda s: {"body": "Looks fine"},
                "criteria": lambda s: {"text": "Given a user, then it works"}},
        changes={"move": {"rank"}}),
    "epic": Write(bodies={"create": lambda e: {"product": e.product_id, "title": "New epic"},
                          "update": lambda e: {"title": "Renamed", "version": e.version}}),
    "custom-field": Write(bodies={
        "create": lambda f: {"product": f.product_id, "key": "squad", "label": "Squad", "type": "text"},
        "update": lambda f: {"version": f.version, "label": "Renamed"}}),
    "saved-view": Write(bodies={"create": lambda v: {"product": v.product_id, "name": "Mine", "config": {}},
                                "update": lambda v: {"version": v.version, "name": "Renamed"}}),
    "backlog-product": Write(build=m._product, bodies={
        "scoring_model": lambda p: {"framework": "wsjf"},
        "backlog_settings": lambda p: {"segment_weights": {"enterprise": 2.0}},
        "what_if": lambda p: {"framework": "ice"}}),
}
