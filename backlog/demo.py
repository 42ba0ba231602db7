"""Demo backlog for the "Acme Analytics" product of workspace "acme". Idempotent: every row
is found by its natural key first, so a second run changes nothing."""

from roadmaps.models import Initiative, Product

from . import services
from .models import Epic, ScoringModel, Story

# Each epic delivers a roadmap initiative (roadmaps.demo), so progress rolls up to the roadmap.
EPICS = ["Self-serve onboarding", "Dashboards 2.0", "Data connectors", "Enterprise readiness", "Digest e-mails",
         "Billing export"]
EPIC_INITIATIVES = {
    "Self-serve onboarding": "Template gallery", "Dashboards 2.0": "Dashboard builder",
    "Data connectors": "Metric catalogue", "Enterprise readiness": "Certification workflow",
    "Digest e-mails": "Slack digests", "Billing export": "Usage billing export",
}
VERBS = ["Import", "Share", "Export", "Schedule", "Filter", "Annotate", "Compare", "Alert on"]
OBJECTS = ["dashboards", "CSV files", "reports", "charts", "segments", "funnels", "cohorts", "metrics"]
STATUSES = ["idea", "ready", "in_progress", "in_review", "done", "idea", "ready", "wont_do"]


def _stories():
    rows = []
    for i in range(30):
        verb, obj = VERBS[i % len(VERBS)], OBJECTS[(i * 3) % len(OBJECTS)]
        rows.append({
            "title": f"{verb} {obj}" + (f" ({i // 8 + 1})" if i >= 8 else ""),
            "as_a": "product analyst", "i_want": f"to {verb.lower()} {obj}", "so_that": "my team decides faster",
            # The billing export shipped (its initiative is done): all its stories are done.
            "status": "done" if EPICS[i % len(EPICS)] == "Billing export" else STATUSES[i % len(STATUSES)],
            "points": [1, 2, 3, 5, 8][i % 5],
            "labels": [["growth"], ["ux"], ["platform"], []][i % 4],
            "score_inputs": {"reach": 200 + 150 * (i % 7), "impact": [0.5, 1, 2, 3][i % 4],
                             "confidence": [50, 80, 100][i % 3], "effort": 1 + i % 5,
                             "value": 1 + (i * 7) % 10, "ease": 1 + (i * 3) % 10},
            "acceptance_criteria": ["Works for a workspace with 10,000 rows", "Keyboard accessible"],
            "epic_index": i % len(EPICS),
        })
    return rows


def seed(*, workspace, users):
    actor = users["demo"]
    product, _ = Product.objects.get_or_create(workspace=workspace, name="Acme Analytics")
    ScoringModel.objects.get_or_create(product=product, defaults={"framework": ScoringModel.Framework.RICE})
    epics = []
    initiatives = {i.title: i for i in Initiative.objects.filter(product=product)}
    for title in EPICS:
        epic = Epic.objects.filter(product=product, title=title).first()
        epic = epic or services.epic_create(actor=actor, product=product, title=title)
        initiative = initiatives.get(EPIC_INITIATIVES[title])
        if initiative is not None and epic.initiative_id is None:
            services.epics_link(actor=actor, product=product, epic_ids=[epic.id], initiative=initiative)
        epics.append(epic)
    existing = set(Story.objects.filter(product=product).values_list("title", flat=True))
    new = []
    for row in _stories():
        if row["title"] in existing:
            continue
        row = dict(row)
        row["epic_id"] = epics[row.pop("epic_index")].id
        new.append(row)
    if new:
        services.stories_bulk_create(actor=actor, product=product, stories=new)
    return product
