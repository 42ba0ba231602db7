"""Mass-assignment walk entries of the discovery app (format: Write in massassign.py)."""

from django.core.files.uploadedfile import SimpleUploadedFile

from backlog.models import Story

from . import matrix_discovery as m
from .massassign import Write


def _intake(ws):
    from discovery import services

    return services.intake_of(m._product(ws))


def _csv(job):
    return {"product": job.product_id, "kind": "companies",
            "file": SimpleUploadedFile("more.csv", b"Name,Domain\nGlobex,globex.example\n", "text/csv")}


def _story(insight):
    return Story.objects.get_or_create(product_id=insight.product_id, title="Walk story")[0]


def _other_idea(idea):
    from discovery.models import Idea

    return Idea.objects.get_or_create(product_id=idea.product_id, title="Walk duplicate")[0]


WRITES = {
    "company": Write(bodies={
        "create": lambda c: {"product": c.product_id, "name": "Initech", "domain": "initech.example"},
        "update": lambda c: {"version": c.version, "name": "Renamed", "revenue": "1000.00"},
        "upsert": lambda c: {"product": c.product_id, "external_id": c.external_id, "name": "Upserted"}}),
    "person": Write(bodies={
        "create": lambda p: {"product": p.product_id, "email": "new@company.example", "name": "New"},
        "update": lambda p: {"version": p.version, "name": "Renamed"}}),
    "insight": Write(bodies={
        "create": lambda i: {"product": i.product_id, "text": "A new insight"},
        "update": lambda i: {"version": i.version, "state": "reviewed"},
        "bulk": lambda i: {"product": i.product_id, "items": [{"id": "walk-1", "text": "Bulk insight"}]},
        "highlights": lambda i: {"passage": "A passage", "importance": 3, "story": _story(i).id}}),
    # POST /api/v1/feedback/ (create only): files an insight with a highlight per linked story.
    "feedback": Write(build=m._insight, bodies={
        "create": lambda i: {"product": i.product_id, "customer": "Hooli", "quote": "More!", "importance": 4,
                             "story_ids": [_story(i).id]}}),
    "idea": Write(bodies={
        "create": lambda i: {"product": i.product_id, "title": "New idea"},
        "update": lambda i: {"version": i.version, "status": "planned"},
        "merge": lambda i: {"into": _other_idea(i).id}},
        changes={"merge": {"merged_into_id", "published"}}),
    # The portal's slug is its public address, which its admins choose (PUT/PATCH, as on the settings page).
    "discovery-portal": Write(build=m._portal, bodies={
        "update": lambda p: {"version": p.version, "name": "Renamed", "intro": "Tell us"}},
        changes={"update": {"slug"}, "partial_update": {"slug"}}),
    "release-note": Write(build=m._release_note, bodies={
        "create": lambda n: {"product": n.portal.product_id, "title": "2.1", "body": "Faster exports"}}),
    "discovery-import": Write(
        build=m._import,
        bodies={"create": _csv, "confirm": lambda job: {}},
        multipart=frozenset({"create"})),
    "discovery-intake": Write(
        build=_intake,
        bodies={"update": lambda i: {"version": i.version, "form_enabled": True,
                                     "form_origins": ["https://app.example.com"]},
                "rotate": lambda i: {}}),
}
