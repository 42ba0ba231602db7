"""Mass-assignment walk entries of the delivery app (format: Write in massassign.py)."""

from django.core.files.uploadedfile import SimpleUploadedFile

from backlog.models import Story
from delivery import services
from delivery.models import IterationItem, ReleaseScopeItem
from tests.delivery.factories import StoryFactory

from . import matrix_delivery as m
from .massassign import Write


def _unplanned(iteration):
    planned = IterationItem.objects.filter(removed_at__isnull=True).values("story_id")
    return Story.objects.filter(product_id=iteration.product_id).exclude(id__in=planned).first()


def _previewed_import(ws):
    job = m._import(ws)
    services.import_preview(actor=m._actor(ws), job=job)
    job.refresh_from_db()
    return job


def _csv(job):
    return {"product": job.product_id, "file": SimpleUploadedFile("more.csv", b"Summary\nThree\n", "text/csv")}


WRITES = {
    "iteration": Write(
        build=m._iteration,
        bodies={"create": lambda i: {"product": i.product_id, "name": "Sprint 9", "start_date": "2026-11-16",
                                     "end_date": "2026-11-27", "capacity_points": 8},
                "update": lambda i: {"version": i.version, "name": "Renamed", "start_date": "2026-11-02", "end_date": "2026-11-13"},
                "add_story": lambda i: {"story": _unplanned(i).id},
                "remove_story": lambda i: {"story": i.items.first().story_id}}),
    "release-scope": Write(bodies={
        "add": lambda r: {"story": StoryFactory(product=r.product).id},
        "remove": lambda r: {"story": ReleaseScopeItem.objects.filter(release=r).first().story_id},
        "approve": lambda r: {"note": "Agreed"}}),
    "change-request": Write(
        bodies={"create": lambda cr: {"release": cr.release_id, "story": StoryFactory(product=cr.release.product).id,
                                      "kind": "add", "reason": "The customer asked"},
                "approve": lambda cr: {"note": "Yes"},
                "reject": lambda cr: {"note": "No"}},
        changes={"approve": {"status", "decided_by_id", "decided_at"},
                 "reject": {"status", "decided_by_id", "decided_at"}}),
    "import": Write(
        build=m._import, builds={"confirm": _previewed_import},
        bodies={"create": _csv, "preview": lambda job: {}, "confirm": lambda job: {}},
        multipart=frozenset({"create"}),
        changes={"preview": {"status"}, "confirm": {"status", "job_id"}}),
}
