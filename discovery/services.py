"""Writes of the discovery app: companies, people, the insights inbox and highlights. Every
user-facing write checks the actor's role first; updates need the version the client read."""

import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from pmhub.access import require_role
from pmhub.integrity import duplicate_as
from pmhub.models import Role
from pmhub.services import activity_record
from pmhub.utils import model_update, version_claim
from pmhub.webhooks import webhook_emit

from .intake import email_domain, validate_items
from .models import (
    Comment,
    Company,
    CsvImport,
    Follow,
    Highlight,
    Idea,
    InboundEmail,
    Insight,
    Intake,
    MagicLink,
    Person,
    Portal,
    ReleaseNote,
    Visitor,
    Vote,
)

REVENUE_MAX = Decimal("999999999999.99")
COMPANY_FIELDS = ["name", "domain", "segment", "revenue", "currency", "plan", "tier", "external_id"]
PERSON_FIELDS = ["email", "name", "company", "external_id"]
INSIGHT_FIELDS = ["title", "text", "state", "owner", "person", "company", "author_name", "author_email"]


# --- companies -------------------------------------------------------------------------------------
def _clean_company(product, data: dict) -> dict:
    """Normalise and check company fields (strings stripped, domain lower-case, segment of this product)."""
    clean = dict(data)
    errors = {}
    for name in ("name", "plan", "tier", "external_id"):
        if name in clean:
            clean[name] = (clean[name] or "").strip()
    if "domain" in clean:
        domain = (clean["domain"] or "").strip().lower().removeprefix("https://").removeprefix("http://")
        domain = domain.removeprefix("www.").rstrip("/")
        if domain and ("." not in domain or any(c in domain for c in " /@:")):
            errors["domain"] = "A domain such as acme.com."
        clean["domain"] = domain
    if "currency" in clean:
        currency = (clean["currency"] or "").strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            errors["currency"] = "A three-letter currency code such as EUR."
        clean["currency"] = currency
    if "name" in clean and not clean["name"]:
        errors["name"] = "Name the company."
    revenue = clean.get("revenue")
    if revenue is not None and not (Decimal(0) <= Decimal(revenue) <= REVENUE_MAX):
        errors["revenue"] = "A revenue from 0 to 999,999,999,999.99."
    segment = clean.get("segment")
    if segment is not None and segment.product_id != product.id:
        errors["segment"] = "Choose a segment of this product."
    if errors:
        raise ValidationError(errors)
    return clean


UNIQUE_COMPANY = {"domain": "Another company of this product has this domain or external id.",
                  "external_id": "Another company of this product has this domain or external id."}


def _check_company_unique(product, clean: dict, exclude_id=None) -> None:
    qs = Company.objects.filter(product=product).exclude(pk=exclude_id)
    errors = {}
    if clean.get("domain") and qs.filter(domain=clean["domain"]).exists():
        errors["domain"] = "Another company of this product has this domain."
    if clean.get("external_id") and qs.filter(external_id=clean["external_id"]).exists():
        errors["external_id"] = "Another company of this product has this external id."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def company_create(*, user, product, data: dict) -> Company:
    require_role(user=user, workspace_id=product.workspace_id, role=Role.EDITOR)
    clean = _clean_company(product, {k: v for k, v in data.items() if k in COMPANY_FIELDS})
    _check_company_unique(product, clean)
    try:
        with duplicate_as(UNIQUE_COMPANY):
            company = Company.objects.create(product=product, **clean)
    except ValidationError:
        # Created by someone else at the same moment: now committed, it is named like any duplicate.
        _check_company_unique(product, clean)
        raise
    activity_record(workspace_id=product.workspace_id, actor=user, verb="created company", target=company)
    webhook_emit(workspace_id=product.workspace_id, event="discovery.company.created",
                 payload={"id": company.id, "name": company.name})
    return company


@transaction.atomic
def company_update(*, user, company: Company, data: dict, version: int | None = None) -> Company:
    product = company.product
    require_role(user=user, workspace_id=product.workspace_id, role=Role.EDITOR)
    version_claim(instance=company, expected_version=version)
    clean = _clean_company(product, {k: v for k, v in data.items() if k in COMPANY_FIELDS})
    _check_company_unique(product, clean, exclude_id=company.pk)
    revenue_before, segment_before = company.revenue, company.segment_id
    with duplicate_as(UNIQUE_COMPANY):
        changed = model_update(instance=company, data=clean, fields=COMPANY_FIELDS)
    if changed:
        activity_record(workspace_id=product.workspace_id, actor=user, verb="updated company", target=company)
        webhook_emit(workspace_id=product.workspace_id, event="discovery.company.updated", payload={"id": company.id})
        if company.revenue != revenue_before or company.segment_id != segment_before:
            _demand_queue(product.id)
    return company


@transaction.atomic
def company_delete(*, user, company: Company) -> None:
    """Delete a company; its people and insights stay, without a company."""
    require_role(user=user, workspace_id=company.product.workspace_id, role=Role.EDITOR)
    activity_record(workspace_id=company.product.workspace_id, actor=user, verb="deleted company",
                    data={"name": company.name})
    company.delete()


@transaction.atomic
def company_upsert(*, user, product, data: dict) -> tuple[Company, bool]:
    """Create or update a company found by `external_id`, else by `domain` (a CRM sync): sending
    the same record twice changes nothing the second time. Returns (company, created)."""
    require_role(user=user, workspace_id=product.workspace_id, role=Role.EDITOR)
    clean = _clean_company(product, {k: v for k, v in data.items() if k in COMPANY_FIELDS})
    if not clean.get("external_id") and not clean.get("domain"):
        raise ValidationError({"external_id": "Send an external id or a domain to match the company by."})
    qs = Company.objects.select_for_update().filter(product=product)
    existing = None
    if clean.get("external_id"):
        existing = qs.filter(external_id=clean["external_id"]).first()
    if existing is None and clean.get("domain"):
        existing = qs.filter(domain=clean["domain"]).first()
    if existing is None:
        if not clean.get("name"):
            raise ValidationError({"name": "Name the company."})
        return company_create(user=user, product=product, data=clean), True
    return company_update(user=user, company=existing, data=clean, version=None), False


# --- people -----------------------------------------------------------------------------------------
def _clean_person(product, data: dict) -> dict:
    clean = dict(data)
    errors = {}
    if "email" in clean:
        clean["email"] = (clean["email"] or "").strip().lower()
        if not clean["email"]:
            errors["email"] = "An e-mail address."
    for name in ("name", "external_id"):
        if name in clean:
            clean[name] = (clean[name] or "").strip()
    company = clean.get("company")
    if company is not None and company.product_id != product.id:
        errors["company"] = "Choose a company of this product."
    if errors:
        raise ValidationError(errors)
    return clean


UNIQUE_PERSON = {"email": "This product already has a person with this e-mail address or external id."}


def _company_for_email(product_id: int, email: str) -> Company | None:
    domain = email_domain(email)
    return Company.objects.filter(product_id=product_id, domain=domain).first() if domain else None


@transaction.atomic
def person_create(*, user, product, data: dict) -> Person:
    """Add a person; without a company named, the company whose domain matches the e-mail address."""
    require_role(user=user, workspace_id=product.workspace_id, role=Role.EDITOR)
    clean = _clean_person(product, {k: v for k, v in data.items() if k in PERSON_FIELDS})
    if not clean.get("email"):
        raise ValidationError({"email": "An e-mail address."})
    if Person.objects.filter(product=product, email=clean["email"]).exists():
        raise ValidationError(UNIQUE_PERSON)
    if clean.get("company") is None:
        clean["company"] = _company_for_email(product.id, clean["email"])
    with duplicate_as(UNIQUE_PERSON):
        person = Person.objects.create(product=product, **clean)
    activity_record(workspace_id=product.workspace_id, actor=user, verb="added person", target=person)
    return person


@transaction.atomic
def person_update(*, user, person: Person, data: dict, version: int | None = None) -> Person:
    product = person.product
    require_role(user=user, workspace_id=product.workspace_id, role=Role.EDITOR)
    version_claim(instance=person, expected_version=version)
    clean = _clean_person(product, {k: v for k, v in data.items() if k in PERSON_FIELDS})
    if clean.get("email") and Person.objects.filter(product=product, email=clean["email"]).exclude(
            pk=person.pk).exists():
        raise ValidationError(UNIQUE_PERSON)
    with duplicate_as(UNIQUE_PERSON):
        if model_update(instance=person, data=clean, fields=PERSON_FIELDS):
            activity_record(workspace_id=product.workspace_id, actor=user, verb="updated person", target=person)
    return person


@transaction.atomic
def person_delete(*, user, person: Person) -> None:
    require_role(user=user, workspace_id=person.product.workspace_id, role=Role.EDITOR)
    activity_record(workspace_id=person.product.workspace_id, actor=user, verb="removed person",
                    data={"email": person.email})
    person.delete()


# --- insights ---------------------------------------------------------------------------------------
def _people_for(product, emails: set[str]) -> dict[str, Person]:
    """People of the product by e-mail, creating the missing ones (with the company of their
    domain): one read, one INSERT ... ON CONFLICT DO NOTHING, one read back."""
    if not emails:
        return {}
    found = {p.email: p for p in Person.objects.filter(product=product, email__in=emails)}
    missing = emails - found.keys()
    if missing:
        domains = {email_domain(e) for e in missing} - {""}
        companies = {c.domain: c.id for c in Company.objects.filter(product=product, domain__in=domains)}
        Person.objects.bulk_create(
            [Person(product=product, email=e, company_id=companies.get(email_domain(e))) for e in sorted(missing)],
            ignore_conflicts=True)
        found |= {p.email: p for p in Person.objects.filter(product=product, email__in=missing)}
    return found


def _insight_row(product, row: dict, people: dict, companies_by_ext: dict, channel: str, user) -> Insight:
    person = people.get(row["author_email"]) if row.get("author_email") else None
    company_id = companies_by_ext.get(row.get("company_external_id") or "")
    if company_id is None and person is not None:
        company_id = person.company_id
    if person is not None and row.get("author_name") and not person.name:
        Person.objects.filter(pk=person.pk, name="").update(name=row["author_name"][:160])
    return Insight(product=product, title=row.get("title", ""), text=row["text"], channel=channel,
                   key=row.get("key", ""), author_email=row.get("author_email", ""),
                   author_name=row.get("author_name", ""), person=person, company_id=company_id,
                   created_by=user if getattr(user, "is_authenticated", False) else None)


def insights_intake(*, product, items, channel: str = Insight.Channel.API, user=None, check_role=True) -> dict:
    """File a batch of insights into the product's inbox; all or nothing.

    Each item may carry an idempotency `id` (unique per product): a re-sent item is stored once
    (INSERT ... ON CONFLICT DO NOTHING). Authors are resolved by e-mail to people (created when
    new) and by the e-mail's domain, or an explicit company external id, to companies.
    """
    if check_role:
        require_role(user=user, workspace_id=product.workspace_id, role=Role.EDITOR)
    rows = validate_items(items, limit=settings.API_MAX_BATCH_SIZE)
    return _intake_rows(product=product, rows=rows, channel=channel, user=user)


def _intake_rows(*, product, rows: list[dict], channel: str, user) -> dict:
    """Write validated intake rows (intake.validate_item's shape): see insights_intake."""
    with transaction.atomic():
        people = _people_for(product, {r["author_email"] for r in rows if r["author_email"]})
        externals = {r["company_external_id"] for r in rows if r["company_external_id"]}
        companies = dict(Company.objects.filter(product=product, external_id__in=externals)
                         .values_list("external_id", "id")) if externals else {}
        keyed = [r for r in rows if r["key"]]
        known = set(Insight.objects.filter(product=product, key__in={r["key"] for r in keyed})
                    .values_list("key", flat=True)) if keyed else set()
        seen, fresh = set(), []
        for r in rows:
            if r["key"]:
                if r["key"] in known or r["key"] in seen:
                    continue
                seen.add(r["key"])
            fresh.append(_insight_row(product, r, people, companies, channel, user))
        created = Insight.objects.bulk_create(fresh, ignore_conflicts=True, batch_size=1000)
        if created:
            activity_record(workspace_id=product.workspace_id, actor=user, verb="filed insights", target=product,
                            data={"count": len(created), "channel": channel})
            webhook_emit(workspace_id=product.workspace_id, event="discovery.insights.filed",
                         payload={"product": product.id, "channel": channel, "count": len(created)})
    return {"accepted": len(rows), "created": len(created), "duplicates": len(rows) - len(created)}


@transaction.atomic
def insight_create(*, user, product, data: dict, channel: str = Insight.Channel.MANUAL) -> Insight:
    """One insight typed in by hand (page or API)."""
    require_role(user=user, workspace_id=product.workspace_id, role=Role.EDITOR)
    item = {"title": data.get("title", ""), "text": data.get("text", ""), "email": data.get("author_email", ""),
            "name": data.get("author_name", ""), "id": data.get("key", "")}
    try:
        rows = validate_items([item], limit=1)
    except Exception as exc:  # BatchInvalid: the one item's errors as field errors
        errors = getattr(exc, "errors", {}).get("0", {})
        raise ValidationError({{"email": "author_email", "name": "author_name", "id": "key"}.get(k, k): v
                               for k, v in errors.items()}) from None
    row = rows[0]
    if row["key"] and Insight.objects.filter(product=product, key=row["key"]).exists():
        raise ValidationError({"key": "An insight with this key is already in the inbox."})
    people = _people_for(product, {row["author_email"]} if row["author_email"] else set())
    insight = _insight_row(product, row, people, {}, channel, user)
    company = data.get("company")
    if company is not None:
        if company.product_id != product.id:
            raise ValidationError({"company": "Choose a company of this product."})
        insight.company = company
    owner = data.get("owner")
    if owner is not None:
        _check_owner(product, owner)
        insight.owner = owner
    with duplicate_as({"key": "An insight with this key is already in the inbox."}):
        insight.save()
    activity_record(workspace_id=product.workspace_id, actor=user, verb="filed insight", target=insight)
    _notify_owner(insight=insight, actor=user)
    webhook_emit(workspace_id=product.workspace_id, event="discovery.insight.created",
                 payload={"id": insight.id, "product": product.id})
    return insight


def _notify_owner(*, insight: Insight, actor) -> None:
    """Tell the new owner of an insight (an assignment, like a story's: their e-mail preference applies)."""
    if insight.owner_id and insight.owner_id != getattr(actor, "id", None):
        from django.urls import reverse

        from pmhub.services import notify

        url = reverse("discovery:insight", kwargs={"ws": insight.product.workspace.slug,
                                                   "product_id": insight.product_id, "insight_id": insight.id})
        notify(recipient=insight.owner, kind="assignment", title=f"Insight for you: “{insight.label[:120]}”",
               url=url, workspace_id=insight.product.workspace_id, data={"insight_id": insight.id})


def _check_owner(product, owner) -> None:
    from pmhub.models import Membership

    if not Membership.objects.filter(workspace_id=product.workspace_id, user=owner).exists():
        raise ValidationError({"owner": "Choose a member of this workspace."})


@transaction.atomic
def insight_update(*, user, insight: Insight, data: dict, version: int | None = None) -> Insight:
    """Change an insight's state, owner, author, company or text."""
    product = insight.product
    require_role(user=user, workspace_id=product.workspace_id, role=Role.EDITOR)
    version_claim(instance=insight, expected_version=version)
    clean = {k: v for k, v in data.items() if k in INSIGHT_FIELDS}
    errors = {}
    if "text" in clean and not (clean["text"] or "").strip():
        errors["text"] = "What did the customer say?"
    if "state" in clean and clean["state"] not in Insight.State.values:
        errors["state"] = "new, reviewed or archived."
    if clean.get("company") is not None and clean["company"].product_id != product.id:
        errors["company"] = "Choose a company of this product."
    if clean.get("person") is not None and clean["person"].product_id != product.id:
        errors["person"] = "Choose a person of this product."
    if errors:
        raise ValidationError(errors)
    if clean.get("owner") is not None:
        _check_owner(product, clean["owner"])
    if clean.get("person") is not None and "company" not in clean and clean["person"].company_id:
        clean["company"] = clean["person"].company
    before, owner_before = insight.state, insight.owner_id
    if model_update(instance=insight, data=clean, fields=INSIGHT_FIELDS):
        if insight.owner_id != owner_before:
            _notify_owner(insight=insight, actor=user)
        verb = f"marked insight {insight.get_state_display().lower()}" if insight.state != before else \
            "updated insight"
        activity_record(workspace_id=product.workspace_id, actor=user, verb=verb, target=insight)
        webhook_emit(workspace_id=product.workspace_id, event="discovery.insight.updated",
                     payload={"id": insight.id, "state": insight.state})
    return insight


@transaction.atomic
def insight_delete(*, user, insight: Insight) -> None:
    require_role(user=user, workspace_id=insight.product.workspace_id, role=Role.EDITOR)
    activity_record(workspace_id=insight.product.workspace_id, actor=user, verb="deleted insight",
                    data={"id": insight.id})
    insight.delete()


# --- highlights ---------------------------------------------------------------------------------------
@transaction.atomic
def highlight_create(*, user, insight: Insight, passage: str, importance: int = 3, epic=None,
                     story=None, idea=None) -> Highlight:
    """Link a passage of an insight to an idea, an epic or a story of the same product (one or more
    of them), with its importance. A highlight for an idea adds to the idea's demand (decision 1615)."""
    product = insight.product
    require_role(user=user, workspace_id=product.workspace_id, role=Role.EDITOR)
    errors = {}
    passage = (passage or "").strip()
    if not passage:
        errors["passage"] = "Select or type the passage."
    elif len(passage) > 5000:
        errors["passage"] = "At most 5,000 characters."
    if importance is None or not 1 <= int(importance) <= 5:
        errors["importance"] = "From 1 (nice to have) to 5 (critical)."
    if epic is None and story is None and idea is None:
        errors["epic"] = "Link the passage to an idea, an epic or a story."
    if epic is not None and epic.product_id != product.id:
        errors["epic"] = "Choose an epic of this product."
    if story is not None and story.product_id != product.id:
        errors["story"] = "Choose a story of this product."
    if idea is not None and (idea.product_id != product.id or idea.merged_into_id):
        errors["idea"] = "Choose an idea of this product that was not merged."
    if errors:
        raise ValidationError(errors)
    highlight = Highlight.objects.create(insight=insight, passage=passage, importance=int(importance), epic=epic,
                                         story=story, idea=idea, created_by=user)
    activity_record(workspace_id=product.workspace_id, actor=user, verb="highlighted insight", target=insight,
                    data={"importance": highlight.importance})
    if insight.state == Insight.State.NEW:
        Insight.objects.filter(pk=insight.pk, state=Insight.State.NEW).update(state=Insight.State.REVIEWED)
    _demand_queue(product.id)
    return highlight


def _feedback_company(product, name: str, segment=None) -> Company:
    """The company a piece of typed-in feedback names: the product's company of that name (any
    case), else a new one in `segment`. The backlog's feedback had a free-text customer; in the
    inbox a customer is a company, so its revenue and segment weigh its demand (decision 1613)."""
    company = Company.objects.filter(product=product, name__iexact=name).order_by("id").first()
    if company is None:
        company = Company.objects.create(product=product, name=name, segment=segment)
    return company


@transaction.atomic
def feedback_file(*, user, product, customer: str, quote: str, source: str = "", segment=None,
                  importance: int = 3, story_ids=(), epic_ids=()) -> Insight:
    """What a customer said, typed in on the Feedback page and linked to the work it asks for, in
    one step: an insight of channel "feedback" (title: the customer and the source) whose whole
    text is highlighted once per linked story and epic with the importance given. The one write
    path of customer feedback (decision 1613): it lands in the inbox, weighs in demand through its
    highlights (recomputed in the worker) and shows in "Who asked" on the stories and epics."""
    from backlog.models import Epic, Story

    require_role(user=user, workspace_id=product.workspace_id, role=Role.EDITOR)
    errors: dict = {}
    customer = (customer or "").strip()
    quote = (quote or "").strip()
    source = (source or "").strip()
    if not customer:
        errors["customer"] = "Who said it?"
    elif len(customer) > 160 or "\x00" in customer:
        errors["customer"] = "At most 160 characters."
    if not quote:
        errors["quote"] = "What did they say?"
    elif len(quote) > 5000 or "\x00" in quote:
        errors["quote"] = "At most 5,000 characters."
    if len(source) > 80 or "\x00" in source:
        errors["source"] = "At most 80 characters."
    try:
        importance = int(importance)
    except (TypeError, ValueError):
        importance = 0
    if not 1 <= importance <= 5:
        errors["importance"] = "Importance is 1 to 5."
    if segment is not None and segment.product_id != product.id:
        errors["segment"] = "Choose a segment of this product."
    story_ids, epic_ids = sorted(set(story_ids or ())), sorted(set(epic_ids or ()))
    stories = list(Story.objects.filter(product=product, id__in=story_ids))
    epics = list(Epic.objects.filter(product=product, id__in=epic_ids))
    for name, wanted, found in (("story_ids", story_ids, stories), ("epic_ids", epic_ids, epics)):
        missing = set(wanted) - {o.id for o in found}
        if missing:
            errors[name] = f"Link only items of this product (not {', '.join(map(str, sorted(missing)))})."
    if errors:
        raise ValidationError(errors)
    company = _feedback_company(product, customer, segment)
    title = f"{customer} ({source})" if source else customer
    insight = Insight.objects.create(
        product=product, title=title[:200], text=quote, channel=Insight.Channel.FEEDBACK, author_name=customer,
        company=company, created_by=user,
        state=Insight.State.REVIEWED if stories or epics else Insight.State.NEW)
    Highlight.objects.bulk_create(
        [Highlight(insight=insight, passage=quote, importance=importance, story=s, created_by=user) for s in stories]
        + [Highlight(insight=insight, passage=quote, importance=importance, epic=e, created_by=user) for e in epics])
    activity_record(workspace_id=product.workspace_id, actor=user, verb="added feedback", target=insight,
                    data={"stories": len(stories), "epics": len(epics)})
    webhook_emit(workspace_id=product.workspace_id, event="discovery.insight.created",
                 payload={"id": insight.id, "product": product.id})
    if stories or epics:
        _demand_queue(product.id)
    return insight


@transaction.atomic
def highlight_delete(*, user, highlight: Highlight) -> None:
    product = highlight.insight.product
    require_role(user=user, workspace_id=product.workspace_id, role=Role.EDITOR)
    activity_record(workspace_id=product.workspace_id, actor=user, verb="removed highlight",
                    target=highlight.insight)
    highlight.delete()
    _demand_queue(product.id)


def _demand_queue(product_id: int) -> None:
    """Recompute the product's customer demand in the worker once this transaction commits."""
    from functools import partial

    transaction.on_commit(partial(_demand_enqueue, product_id))


def _demand_enqueue(product_id: int) -> None:
    from pmhub.celery import queue_or_leave

    from .tasks import demand_recompute

    queue_or_leave(demand_recompute, product_id)


# --- CSV imports (parsed and applied in the worker: docs/decisions/1213) ------------------------------
MAX_IMPORT_BYTES = 20 * 1024 * 1024


@transaction.atomic
def csv_import_upload(*, user, product, kind: str, filename: str, data: bytes) -> CsvImport:
    """Store an uploaded CSV of companies or insights and queue its reading by the worker."""
    require_role(user=user, workspace_id=product.workspace_id, role=Role.EDITOR)
    if kind not in CsvImport.Kind.values:
        raise ValidationError({"kind": "Companies or insights."})
    if not data:
        raise ValidationError({"file": "The file is empty."})
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationError({"file": "The file is larger than 20 MB."})
    job = CsvImport.objects.create(product=product, kind=kind, filename=(filename or "")[:255], raw=data,
                                   created_by=user)
    activity_record(workspace_id=product.workspace_id, actor=user, verb=f"uploaded {kind} CSV", target=product,
                    data={"bytes": len(data)})
    from .tasks import csv_import_parse as task

    task.delay_on_commit(job.id)
    return job


def csv_import_parse(*, import_id: int) -> str:
    """Worker: read the stored file into clean rows and per-line errors (status `ready`), or fail
    it with the reason (pmhub.textfiles). Locked and guarded by the status: a retry does nothing."""
    from pmhub.textfiles import FileRefused

    from . import csvimport

    with transaction.atomic():
        job = CsvImport.objects.select_for_update().filter(pk=import_id).first()
        if job is None or job.status != CsvImport.Status.PARSING:
            return "skipped"
        try:
            rows, errors, _ = csvimport.read(bytes(job.raw), job.kind)
        except FileRefused as exc:
            job.status, job.error = CsvImport.Status.FAILED, str(exc)
        else:
            if job.kind == CsvImport.Kind.COMPANIES:
                segments = {s.name.lower(): s.id for s in job.product.segments.all()}
                for row in rows:
                    try:
                        _clean_company(job.product, _company_text(row))
                    except ValidationError as exc:
                        errors[str(row["line"])] = exc.message_dict
                    if row["segment"] and row["segment"].lower() not in segments:
                        errors[str(row["line"])] = {"segment": [f"No segment “{row['segment'][:60]}” in this "
                                                                f"product."]}
                rows = [r | {"segment_id": segments.get(r.pop("segment").lower())}
                        for r in rows if str(r["line"]) not in errors]
            job.rows, job.errors, job.status = rows, errors, CsvImport.Status.READY
        job.raw = None
        job.save(update_fields=["rows", "errors", "status", "error", "raw", "updated_at"])
        return job.status


@transaction.atomic
def csv_import_confirm(*, user, csv_import: CsvImport) -> CsvImport:
    """A person confirms the preview: the worker imports the valid rows (lines with errors are skipped)."""
    require_role(user=user, workspace_id=csv_import.product.workspace_id, role=Role.EDITOR)
    claimed = CsvImport.objects.filter(pk=csv_import.pk, status=CsvImport.Status.READY).update(
        status=CsvImport.Status.APPLYING)
    if not claimed:
        raise ValidationError({"status": "This import is not waiting for confirmation."})
    csv_import.status = CsvImport.Status.APPLYING
    from .tasks import csv_import_apply as task

    task.delay_on_commit(csv_import.id)
    return csv_import


def csv_import_apply(*, import_id: int) -> str:
    """Worker: write the valid rows (companies upserted by external id, else domain; insights filed
    with channel `csv`, idempotent per id). Guarded by the status, so a retry does nothing twice."""
    with transaction.atomic():
        job = CsvImport.objects.select_for_update(of=("self",)).select_related("product", "created_by").filter(
            pk=import_id).first()
        if job is None or job.status != CsvImport.Status.APPLYING:
            return "skipped"
        if job.kind == CsvImport.Kind.COMPANIES:
            result = _companies_apply(product=job.product, rows=job.rows)
        else:
            rows = [{k: v for k, v in r.items() if k != "line"} for r in job.rows]
            result = _intake_rows(product=job.product, rows=rows, channel=Insight.Channel.CSV, user=job.created_by)
        job.status, job.result = CsvImport.Status.DONE, result
        job.save(update_fields=["status", "result", "updated_at"])
        activity_record(workspace_id=job.product.workspace_id, actor=job.created_by,
                        verb=f"imported {job.kind} from CSV", target=job.product, data=result)
        if job.kind == CsvImport.Kind.COMPANIES:
            _demand_queue(job.product_id)
    return "done"


def _company_text(row: dict) -> dict:
    return {k: row[k] for k in ("name", "domain", "plan", "tier", "external_id", "currency")}


def _companies_apply(*, product, rows: list[dict]) -> dict:
    """Upsert companies: one read of the existing ones, one bulk insert, one bulk update."""
    existing = list(Company.objects.filter(product=product))
    by_ext = {c.external_id: c for c in existing if c.external_id}
    by_domain = {c.domain: c for c in existing if c.domain}
    fields = ["name", "domain", "segment_id", "revenue", "currency", "plan", "tier", "external_id"]
    new, changed = {}, {}
    for row in rows:
        clean = _clean_company(product, _company_text(row))
        clean["revenue"] = Decimal(row["revenue"]) if row["revenue"] is not None else None
        clean["segment_id"] = row["segment_id"]
        company = (by_ext.get(clean["external_id"]) if clean["external_id"] else None) or (
            by_domain.get(clean["domain"]) if clean["domain"] else None)
        if company is None:
            company = Company(product=product)
            key = clean["external_id"] or clean["domain"] or f"line-{row['line']}"
            new[key] = company
            if clean["external_id"]:
                by_ext[clean["external_id"]] = company
            if clean["domain"]:
                by_domain[clean["domain"]] = company
        elif company.pk:
            changed[company.pk] = company
        for f in fields:
            if f == "domain" and clean["domain"] and by_domain.get(clean["domain"]) not in (None, company):
                continue  # another company holds this domain: keep this one's
            setattr(company, f, clean[f] if f in clean else getattr(company, f))
    Company.objects.bulk_create(list(new.values()), batch_size=1000)
    Company.objects.bulk_update(list(changed.values()), fields, batch_size=1000)
    return {"created": len(new), "updated": len(changed)}


# --- intake channels: e-mail and the embeddable form --------------------------------------------------
def intake_of(product) -> Intake:
    """The product's intake settings (e-mail token, form key), made on first use."""
    import secrets

    intake = Intake.objects.filter(product=product).first()
    if intake is not None:
        return intake
    try:
        with transaction.atomic():
            return Intake.objects.create(product=product, email_token=secrets.token_hex(6),
                                         form_key="pmhf_" + secrets.token_urlsafe(18))
    except IntegrityError:  # another request made it first
        return Intake.objects.get(product=product)


@transaction.atomic
def intake_update(*, user, product, data: dict, version: int | None = None) -> Intake:
    """Admins open or close the feedback form and list the web origins that may post to it."""
    require_role(user=user, workspace_id=product.workspace_id, role=Role.ADMIN)
    intake = intake_of(product)
    version_claim(instance=intake, expected_version=version)
    clean = {}
    if "form_enabled" in data:
        clean["form_enabled"] = bool(data["form_enabled"])
    if "form_origins" in data:
        origins = []
        for line in (data["form_origins"] or "").splitlines():
            origin = line.strip().rstrip("/").lower()
            if not origin:
                continue
            if not re.fullmatch(r"https?://[a-z0-9.-]+(:\d{1,5})?", origin):
                raise ValidationError({"form_origins": f"“{origin[:80]}” is not an origin such as "
                                                       f"https://app.example.com."})
            origins.append(origin)
        if len(origins) > 20:
            raise ValidationError({"form_origins": "At most 20 origins."})
        clean["form_origins"] = "\n".join(origins)
    if model_update(instance=intake, data=clean, fields=["form_enabled", "form_origins"]):
        activity_record(workspace_id=product.workspace_id, actor=user, verb="changed the feedback form",
                        target=product, data={"enabled": intake.form_enabled})
    return intake


@transaction.atomic
def intake_rotate_keys(*, user, product) -> Intake:
    """New e-mail address and form key (the old ones stop working at once)."""
    import secrets

    require_role(user=user, workspace_id=product.workspace_id, role=Role.ADMIN)
    intake = intake_of(product)
    Intake.objects.filter(pk=intake.pk).update(email_token=secrets.token_hex(6),
                                               form_key="pmhf_" + secrets.token_urlsafe(18))
    intake.refresh_from_db()
    activity_record(workspace_id=product.workspace_id, actor=user, verb="renewed the intake address and key",
                    target=product)
    return intake


def inbound_product_for(address: str):
    """The product whose inbox `address` is (`<token>@INBOUND_EMAIL_DOMAIN`), or None."""
    local, _, domain = (address or "").strip().lower().rpartition("@")
    if domain != settings.INBOUND_EMAIL_DOMAIN.lower() or not local:
        return None
    intake = (Intake.objects.select_related("product").filter(email_token=local.split("+")[0],
                                                              product__deleted_at__isnull=True).first())
    return intake.product if intake else None


def inbound_email_receive(*, product, raw: bytes) -> InboundEmail | None:
    """The SMTP listener accepted a message for `product`: store it once (by Message-ID) and let the
    worker file it. Returns None for a message already received."""
    from .inbound import message_key

    message_id = ""
    for line in raw[:20_000].split(b"\n"):
        if line.lower().startswith(b"message-id:"):
            message_id = line.split(b":", 1)[1].strip().decode("ascii", "replace")
            break
    key = message_key(message_id, raw)[:100]
    with transaction.atomic():
        email, created = InboundEmail.objects.get_or_create(product=product, message_id=key,
                                                           defaults={"raw": raw})
        if not created:
            return None
        from .tasks import inbound_email_file as task

        task.delay_on_commit(email.id)
    return email


def inbound_email_file(*, email_id: int) -> str:
    """Worker: file a received message as an insight (channel e-mail, key from its Message-ID, author
    from From:). Guarded by the status, so a retry files nothing twice."""
    from .inbound import parse
    from .intake import validate_item

    with transaction.atomic():
        email = InboundEmail.objects.select_for_update(of=("self",)).select_related("product").filter(
            pk=email_id).first()
        if email is None or email.status != InboundEmail.Status.RECEIVED:
            return "skipped"
        item, _ = parse(bytes(email.raw))
        row, errors = validate_item(item)
        if errors:
            email.status, email.error = InboundEmail.Status.REFUSED, str(errors)[:300]
        else:
            _intake_rows(product=email.product, rows=[row], channel=Insight.Channel.EMAIL, user=None)
            email.insight = Insight.objects.filter(product=email.product, key=row["key"]).first()
            email.status = InboundEmail.Status.FILED
        email.raw = None
        email.save(update_fields=["status", "error", "insight", "raw"])
        return email.status


def form_insight_submit(*, intake: Intake, text: str, email: str = "", name: str = "", title: str = "") -> dict:
    """An insight from the embeddable feedback form (anonymous, rate limited by the view)."""
    if not intake.form_enabled:
        raise ValidationError({"key": "This feedback form is closed."})
    return insights_intake(product=intake.product, items=[{"text": text, "email": email, "name": name,
                                                           "title": title}],
                           channel=Insight.Channel.FORM, check_role=False)


# --- the portal (docs/decisions/1604-portal-security.md) ----------------------------------------------
PORTAL_FIELDS = ["slug", "name", "intro", "colour", "enabled"]
LINK_MAX_AGE_MINUTES = 30


@transaction.atomic
def portal_save(*, user, product, data: dict, version: int | None = None) -> Portal:
    """Open (or change) the product's public portal: slug, name, intro, colour, on/off. Admins only."""
    require_role(user=user, workspace_id=product.workspace_id, role=Role.ADMIN)
    clean = {k: v for k, v in data.items() if k in PORTAL_FIELDS}
    errors = {}
    if "slug" in clean and not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,59}", clean["slug"] or ""):
        errors["slug"] = "2 to 60 lower-case letters, digits and dashes."
    if "colour" in clean and not re.fullmatch(r"#[0-9a-fA-F]{6}", clean["colour"] or ""):
        errors["colour"] = "A colour such as #1f6feb."
    if "name" in clean and not (clean["name"] or "").strip():
        errors["name"] = "Name the portal."
    if errors:
        raise ValidationError(errors)
    portal = Portal.objects.filter(product=product).first()
    taken = {"slug": "Another portal has this address."}
    if clean.get("slug") and Portal.objects.filter(slug=clean["slug"]).exclude(product=product).exists():
        raise ValidationError(taken)
    if portal is None:
        with duplicate_as(taken):
            portal = Portal.objects.create(product=product, **{"name": product.name, "slug": f"p{product.id}"} | clean)
        activity_record(workspace_id=product.workspace_id, actor=user, verb="set up the ideas portal", target=product)
        return portal
    version_claim(instance=portal, expected_version=version)
    with duplicate_as(taken):
        if model_update(instance=portal, data=clean, fields=PORTAL_FIELDS):
            activity_record(workspace_id=product.workspace_id, actor=user, verb="changed the ideas portal",
                            target=product, data={"enabled": portal.enabled})
    return portal


MAX_LOGO_BYTES = 256 * 1024
MAX_LOGO_SIDE = 2000
LOGO_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}


def _logo_type(data: bytes) -> str:
    """The image's content type, found by reading its content (never the name or the browser's
    word): PNG, JPEG, GIF or WebP, at most 256 KB and 2000 px a side. SVG (scriptable) is refused."""
    import io

    from PIL import Image, UnidentifiedImageError

    if not data:
        raise ValidationError({"logo": "The file is empty."})
    if len(data) > MAX_LOGO_BYTES:
        raise ValidationError({"logo": "The logo is larger than 256 KB."})
    try:
        with Image.open(io.BytesIO(data)) as img:  # reads the header only
            kind, (width, height) = img.format, img.size
            if kind not in LOGO_TYPES:
                raise ValidationError({"logo": "A PNG, JPEG, GIF or WebP image."})
            if width > MAX_LOGO_SIDE or height > MAX_LOGO_SIDE or width < 1 or height < 1:
                raise ValidationError({"logo": f"At most {MAX_LOGO_SIDE} pixels a side."})
            img.verify()  # a truncated or corrupt file fails here
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError({"logo": "This file is not a PNG, JPEG, GIF or WebP image."}) from None
    return LOGO_TYPES[kind]


@transaction.atomic
def portal_logo_set(*, user, portal: Portal, data: bytes | None) -> Portal:
    """Admins put a logo on the portal (checked by content) or remove it (`data=None`)."""
    require_role(user=user, workspace_id=portal.product.workspace_id, role=Role.ADMIN)
    logo_type = _logo_type(data) if data is not None else ""
    from django.utils import timezone

    Portal.objects.filter(pk=portal.pk).update(logo=data, logo_type=logo_type, updated_at=timezone.now())
    portal.logo, portal.logo_type = data, logo_type
    activity_record(workspace_id=portal.product.workspace_id, actor=user,
                    verb="changed the portal's logo" if data is not None else "removed the portal's logo",
                    target=portal.product)
    return portal


def _hash(raw: str) -> str:
    from pmhub.models import hash_secret

    return hash_secret(raw)


def portal_signin_request(*, portal: Portal, email: str, name: str = "") -> None:
    """Mail a single-use sign-in link (valid LINK_MAX_AGE_MINUTES) to `email`. The answer to the
    visitor is the same whether the address is known or not; the view rate-limits the requests."""
    import secrets
    from datetime import timedelta

    from django.utils import timezone

    email = (email or "").strip().lower()
    validate_email_address(email)
    with transaction.atomic():
        visitor, _ = Visitor.objects.get_or_create(portal=portal, email=email,
                                                   defaults={"name": (name or "").strip()[:80]})
        raw = secrets.token_urlsafe(32)
        MagicLink.objects.create(visitor=visitor, token_hash=_hash(raw),
                                 expires_at=timezone.now() + timedelta(minutes=LINK_MAX_AGE_MINUTES))
        from functools import partial

        from .tasks import portal_link_send

        transaction.on_commit(partial(portal_link_send.delay, visitor.id, raw))


def validate_email_address(email: str) -> None:
    from django.core.validators import validate_email

    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": "Enter a valid e-mail address."}) from None
    if len(email) > 190:
        raise ValidationError({"email": "At most 190 characters."})


def portal_link_mail(*, visitor_id: int, raw: str) -> None:
    """Worker: send the sign-in link."""
    from django.core.mail import send_mail
    from django.urls import reverse

    from pmhub.utils import mail_subject

    visitor = Visitor.objects.select_related("portal").filter(pk=visitor_id).first()
    if visitor is None:
        return
    url = settings.SITE_URL + reverse("portal:link", kwargs={"slug": visitor.portal.slug, "token": raw})
    send_mail(mail_subject(f"Sign in to {visitor.portal.name}"),
              f"Open this link to sign in to {visitor.portal.name} (valid for {LINK_MAX_AGE_MINUTES} minutes, "
              f"once):\n\n{url}\n\nIf you did not ask for it, ignore this e-mail.\n",
              None, [visitor.email])


def portal_signin_consume(*, portal: Portal, raw: str) -> Visitor | None:
    """Use a sign-in link: the visitor, or None for a link unknown, used, expired or of another portal."""
    from django.utils import timezone

    with transaction.atomic():
        link = (MagicLink.objects.select_for_update(of=("self",)).select_related("visitor")
                .filter(token_hash=_hash(raw or ""), visitor__portal=portal).first())
        if link is None or link.used_at is not None or link.expires_at <= timezone.now():
            return None
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
        return link.visitor


def _visible_idea(visitor: Visitor, idea: Idea) -> None:
    """A visitor acts only on published ideas of their portal's product (or their own submissions)."""
    from django.http import Http404

    if idea.product_id != visitor.portal.product_id or idea.merged_into_id or not (
            idea.published or idea.author_id == visitor.id):
        raise Http404("No such idea.")


def _text_of(value, name, limit, required=True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({name: "This field is required."})
    if len(value) > limit or "\x00" in value:
        raise ValidationError({name: f"At most {limit:,} characters."})
    return value


@transaction.atomic
def idea_submit(*, visitor: Visitor, title: str, description: str = "") -> Idea:
    """A visitor submits an idea; the PM publishes it (until then only its author sees it). The
    author votes for it and follows it."""
    idea = Idea.objects.create(product_id=visitor.portal.product_id, title=_text_of(title, "title", 160),
                               description=_text_of(description, "description", 5000, required=False),
                               author=visitor)
    Follow.objects.create(idea=idea, visitor=visitor)
    idea_vote(visitor=visitor, idea=idea, importance=Vote.Importance.IMPORTANT)
    activity_record(workspace_id=visitor.portal.product.workspace_id, actor=None, verb="received portal idea",
                    target=idea)
    return idea


@transaction.atomic
def idea_vote(*, visitor: Visitor, idea: Idea, importance: int) -> Vote:
    """Vote once per idea (a second vote changes the importance); voting follows the idea."""
    _visible_idea(visitor, idea)
    if importance not in Vote.Importance.values:
        raise ValidationError({"importance": "Nice to have, important or critical."})
    vote, _ = Vote.objects.update_or_create(idea=idea, visitor=visitor, defaults={"importance": importance})
    Follow.objects.get_or_create(idea=idea, visitor=visitor)
    idea_recount(idea_ids=[idea.id])
    return vote


@transaction.atomic
def idea_unvote(*, visitor: Visitor, idea: Idea) -> None:
    _visible_idea(visitor, idea)
    Vote.objects.filter(idea=idea, visitor=visitor).delete()
    idea_recount(idea_ids=[idea.id])


@transaction.atomic
def idea_follow(*, visitor: Visitor, idea: Idea, follow: bool = True) -> None:
    _visible_idea(visitor, idea)
    if follow:
        Follow.objects.get_or_create(idea=idea, visitor=visitor)
    else:
        Follow.objects.filter(idea=idea, visitor=visitor).delete()


@transaction.atomic
def idea_comment(*, idea: Idea, body: str, visitor: Visitor | None = None, user=None) -> Comment:
    """A visitor (on the portal) or a workspace member (editor) comments on an idea."""
    if visitor is not None:
        _visible_idea(visitor, idea)
    else:
        require_role(user=user, workspace_id=idea.product.workspace_id, role=Role.EDITOR)
    return Comment.objects.create(idea=idea, visitor=visitor, user=user, body=_text_of(body, "body", 5000))


def idea_recount(*, idea_ids) -> None:
    """Votes counted once per visitor, and the idea's customer demand: the sum over votes of
    importance x the revenue factor of the voter's company (found by e-mail domain) x its segment
    weight, plus the same weight of each insight highlighted for the idea (its company's revenue
    and segment; discovery/demand.py). One read of votes, one of highlights, one bulk update."""
    from backlog.models import BacklogSettings

    from .demand import highlight_weight
    from .intake import email_domain

    ideas = list(Idea.objects.filter(pk__in=idea_ids).select_related("product"))
    if not ideas:
        return
    product_ids = {i.product_id for i in ideas}
    weights = {pid: (w or {}) for pid, w in BacklogSettings.objects.filter(product_id__in=product_ids)
               .values_list("product_id", "segment_weights")}
    companies = {(c.product_id, c.domain): c for c in Company.objects.filter(product_id__in=product_ids)
                 .exclude(domain="").select_related("segment")}
    totals = {i.id: [0, Decimal(0)] for i in ideas}
    product_of = {i.id: i.product_id for i in ideas}
    for idea_id, importance, email in Vote.objects.filter(idea_id__in=totals).values_list(
            "idea_id", "importance", "visitor__email"):
        company = companies.get((product_of[idea_id], email_domain(email)))
        segment_weight = 1.0
        if company is not None and company.segment_id:
            segment_weight = float(weights.get(product_of[idea_id], {}).get(company.segment.name, 1))
        totals[idea_id][0] += 1
        totals[idea_id][1] += highlight_weight(importance=importance, segment_weight=segment_weight,
                                               revenue=company.revenue if company else None)
    # Insights highlighted for the idea weigh like a vote of their company (decision 1615).
    for idea_id, importance, revenue, segment in Highlight.objects.filter(idea_id__in=totals).values_list(
            "idea_id", "importance", "insight__company__revenue", "insight__company__segment__name"):
        segment_weight = float(weights.get(product_of[idea_id], {}).get(segment, 1)) if segment else 1.0
        totals[idea_id][1] += highlight_weight(importance=importance, segment_weight=segment_weight, revenue=revenue)
    for idea in ideas:
        idea.vote_count, idea.demand = totals[idea.id][0], totals[idea.id][1].quantize(Decimal("0.01"))
    Idea.objects.bulk_update(ideas, ["vote_count", "demand"])


def ideas_recount_product(*, product_id: int, chunk: int = 500) -> int:
    """Recount every voted or highlighted idea of a product (after a company's revenue or segment, or a
    highlight, changed), in
    chunks of ideas so memory stays bounded. Worker only."""
    from django.db.models import Q

    ids = list(Idea.objects.filter(Q(vote_count__gt=0) | Q(demand__gt=0) | Q(highlights__isnull=False),
                                   product_id=product_id).values_list("id", flat=True).distinct())
    for start in range(0, len(ids), chunk):
        with transaction.atomic():
            idea_recount(idea_ids=ids[start:start + chunk])
    return len(ids)


IDEA_FIELDS = ["title", "description", "status", "published", "initiative"]


def _check_idea_links(product, data: dict) -> None:
    errors = {}
    for name in ("epics", "stories"):
        for obj in data.get(name) or []:
            if obj.product_id != product.id:
                errors[name] = "Link work of this product only."
    if data.get("initiative") is not None and data["initiative"].product_id != product.id:
        errors["initiative"] = "Link an initiative of this product."
    if "status" in data and data["status"] not in Idea.Status.values:
        errors["status"] = "A public status."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def idea_create(*, user, product, data: dict) -> Idea:
    """The PM files an idea (e.g. from a call) and may link it to work at once."""
    require_role(user=user, workspace_id=product.workspace_id, role=Role.EDITOR)
    _check_idea_links(product, data)
    idea = Idea(product=product, created_by=user, title=_text_of(data.get("title"), "title", 160),
                description=_text_of(data.get("description"), "description", 5000, required=False))
    for f in ("status", "published", "initiative"):
        if f in data and data[f] is not None:
            setattr(idea, f, data[f])
    idea.save()
    idea.epics.set(data.get("epics") or [])
    idea.stories.set(data.get("stories") or [])
    activity_record(workspace_id=product.workspace_id, actor=user, verb="created idea", target=idea)
    return idea


@transaction.atomic
def idea_update(*, user, idea: Idea, data: dict, version: int | None = None) -> Idea:
    """Curate an idea: publish it, set its public status, link it to epics, stories or an initiative.
    Setting `shipped` by hand notifies its people like shipping the linked work does."""
    product = idea.product
    require_role(user=user, workspace_id=product.workspace_id, role=Role.EDITOR)
    version_claim(instance=idea, expected_version=version)
    _check_idea_links(product, data)
    clean = {k: v for k, v in data.items() if k in IDEA_FIELDS}
    if "title" in clean:
        clean["title"] = _text_of(clean["title"], "title", 160)
    was = idea.status
    if model_update(instance=idea, data=clean, fields=IDEA_FIELDS):
        activity_record(workspace_id=product.workspace_id, actor=user, verb="curated idea", target=idea)
    if "epics" in data:
        idea.epics.set(data["epics"] or [])
    if "stories" in data:
        idea.stories.set(data["stories"] or [])
    if idea.status == Idea.Status.SHIPPED and was != Idea.Status.SHIPPED:
        _ideas_shipped(ideas=[idea])
    return idea


@transaction.atomic
def idea_delete(*, user, idea: Idea) -> None:
    require_role(user=user, workspace_id=idea.product.workspace_id, role=Role.EDITOR)
    activity_record(workspace_id=idea.product.workspace_id, actor=user, verb="deleted idea",
                    data={"title": idea.title})
    idea.delete()


@transaction.atomic
def idea_merge(*, user, idea: Idea, into: Idea) -> Idea:
    """Merge a duplicate into another idea of the same product: votes and followers move over and
    nobody is counted twice (a visitor who voted for both keeps the higher importance); comments
    move too; the duplicate is unpublished and points to the idea it was merged into."""
    require_role(user=user, workspace_id=idea.product.workspace_id, role=Role.EDITOR)
    if into.pk == idea.pk or into.product_id != idea.product_id or into.merged_into_id:
        raise ValidationError({"into": "Merge into another, unmerged idea of the same product."})
    ours = {v.visitor_id: v for v in Vote.objects.filter(idea=into)}
    for vote in Vote.objects.filter(idea=idea):
        kept = ours.get(vote.visitor_id)
        if kept is None:
            Vote.objects.create(idea=into, visitor_id=vote.visitor_id, importance=vote.importance)
        elif vote.importance > kept.importance:
            Vote.objects.filter(pk=kept.pk).update(importance=vote.importance)
    followers = set(Follow.objects.filter(idea=into).values_list("visitor_id", flat=True))
    Follow.objects.bulk_create([Follow(idea=into, visitor_id=v) for v in
                                Follow.objects.filter(idea=idea).values_list("visitor_id", flat=True)
                                if v not in followers])
    Comment.objects.filter(idea=idea).update(idea=into)
    Highlight.objects.filter(idea=idea).update(idea=into)
    Vote.objects.filter(idea=idea).delete()
    Follow.objects.filter(idea=idea).delete()
    into.epics.add(*idea.epics.all())
    into.stories.add(*idea.stories.all())
    Idea.objects.filter(pk=idea.pk).update(merged_into=into, published=False)
    idea.refresh_from_db()
    idea_recount(idea_ids=[idea.id, into.id])
    activity_record(workspace_id=idea.product.workspace_id, actor=user, verb="merged idea", target=into,
                    data={"merged": idea.id})
    return into


@transaction.atomic
def release_note_create(*, user, portal: Portal, title: str, body: str, release=None) -> ReleaseNote:
    """Release notes on the portal and in its Atom feed."""
    from django.utils import timezone

    require_role(user=user, workspace_id=portal.product.workspace_id, role=Role.EDITOR)
    if release is not None and release.product_id != portal.product_id:
        raise ValidationError({"release": "A release of this product."})
    note = ReleaseNote.objects.create(portal=portal, title=_text_of(title, "title", 160),
                                      body=_text_of(body, "body", 20_000), release=release,
                                      published_at=timezone.now(), created_by=user)
    activity_record(workspace_id=portal.product.workspace_id, actor=user, verb="published release notes",
                    target=portal.product, data={"title": note.title})
    return note


@transaction.atomic
def release_note_delete(*, user, note: ReleaseNote) -> None:
    """Take release notes off the portal and its Atom feed (editors)."""
    product = note.portal.product
    require_role(user=user, workspace_id=product.workspace_id, role=Role.EDITOR)
    activity_record(workspace_id=product.workspace_id, actor=user, verb="removed release notes", target=product,
                    data={"title": note.title})
    note.delete()


# --- the loop closed: linked work ships -> ideas shipped -> one e-mail per person ----------------------
def ideas_ship_for_release(*, release_id: int) -> list[int]:
    """Worker (on `release_shipped`): every unshipped idea linked to an epic or a story of the
    release, or to an epic whose stories are in it, is shipped, and its people get one e-mail."""
    from django.db.models import Q

    with transaction.atomic():
        linked = Idea.objects.filter(
            Q(epics__release_id=release_id) | Q(stories__epic__release_id=release_id)
            | Q(stories__release_scope_items__release_id=release_id),
            merged_into__isnull=True).exclude(status=Idea.Status.SHIPPED).values("pk")
        ideas = list(Idea.objects.select_for_update(of=("self",)).select_related("product")
                     .filter(pk__in=linked).exclude(status=Idea.Status.SHIPPED))
        _ideas_shipped(ideas=ideas)
    return [i.id for i in ideas]


def ideas_ship_for_story(*, story_id: int) -> list[int]:
    """Worker (on backlog's `story_status_changed` into a done status): every unshipped idea linked
    to this story (or to its epic) whose work is finished ships, without a release, and its people
    get the same batched e-mail (decision 1607). An idea's work is its stories and the stories of
    its epics; it is finished when there is at least one, each is in a done or excluded status
    and at least one is done. Idempotent: shipped ideas are left alone, rows are locked."""
    from django.db.models import Q

    from backlog.models import CATEGORY_DONE, CATEGORY_EXCLUDED, Story
    from backlog.selectors import status_keys

    story = Story.objects.select_related("product").filter(pk=story_id).first()
    if story is None:
        return []
    done = status_keys(product=story.product, categories=(CATEGORY_DONE,))
    finished = status_keys(product=story.product, categories=(CATEGORY_DONE, CATEGORY_EXCLUDED))
    if story.status not in done:
        return []
    linked = Q(stories=story)
    if story.epic_id:
        linked |= Q(epics=story.epic_id)
    with transaction.atomic():
        candidates = list(Idea.objects.select_for_update(of=("self",)).select_related("product")
                          .filter(pk__in=Idea.objects.filter(linked, merged_into__isnull=True,
                                                             product_id=story.product_id).values("pk"))
                          .exclude(status=Idea.Status.SHIPPED).order_by("pk"))
        ready = []
        for idea in candidates:
            statuses = set(Story.objects.filter(Q(ideas=idea) | Q(epic__ideas=idea))
                           .values_list("status", flat=True).distinct())
            if statuses and statuses <= finished and statuses & done:
                ready.append(idea)
        _ideas_shipped(ideas=ready)
    return [i.id for i in ready]


def _ideas_shipped(*, ideas: list[Idea]) -> None:
    from django.utils import timezone

    if not ideas:
        return
    now = timezone.now()
    Idea.objects.filter(pk__in=[i.id for i in ideas]).update(status=Idea.Status.SHIPPED, shipped_at=now)
    for idea in ideas:
        webhook_emit(workspace_id=idea.product.workspace_id, event="discovery.idea.shipped",
                     payload={"id": idea.id, "product": idea.product_id})
    from functools import partial

    from .tasks import ideas_shipped_mail

    transaction.on_commit(partial(ideas_shipped_mail.delay, [i.id for i in ideas]))


def shipped_recipients(*, idea_ids: list[int]) -> dict[str, dict]:
    """{e-mail: {"ideas": [idea ids], "visitor": visitor id or None}}: voters, followers (not
    unsubscribed) and authors of insights highlighted for the ideas' work, each address once."""
    people: dict[str, dict] = {}
    visitors = (Visitor.objects.filter(unsubscribed=False)
                .filter(_q_votes_or_follows(idea_ids)).distinct().values_list("id", "email"))
    for visitor_id, email in visitors:
        ids = set(Vote.objects.filter(visitor_id=visitor_id, idea_id__in=idea_ids).values_list("idea_id", flat=True))
        ids |= set(Follow.objects.filter(visitor_id=visitor_id, idea_id__in=idea_ids)
                   .values_list("idea_id", flat=True))
        people.setdefault(email, {"ideas": set(), "visitor": visitor_id})["ideas"] |= ids
    for idea in Idea.objects.filter(pk__in=idea_ids).prefetch_related("epics", "stories"):
        emails = (Highlight.objects.filter(_q_work(idea)).exclude(insight__author_email="")
                  .values_list("insight__author_email", flat=True).distinct())
        for email in emails:
            people.setdefault(email, {"ideas": set(), "visitor": None})["ideas"].add(idea.id)
    return {e: {"ideas": sorted(v["ideas"]), "visitor": v["visitor"]} for e, v in people.items() if v["ideas"]}


def _q_votes_or_follows(idea_ids):
    from django.db.models import Q

    return Q(votes__idea_id__in=idea_ids) | Q(follows__idea_id__in=idea_ids)


def _q_work(idea):
    from django.db.models import Q

    return Q(epic__in=list(idea.epics.all())) | Q(story__in=list(idea.stories.all())) | Q(idea=idea)


def ideas_shipped_mail(*, idea_ids: list[int]) -> int:
    """Worker: one e-mail per person listing every shipped idea they asked for, voted for or
    followed, with an unsubscribe link for portal visitors. A message per person, sent once per
    (person, idea) thanks to the ShippedMail rows."""
    from django.core import signing
    from django.core.mail import EmailMultiAlternatives, get_connection
    from django.template.loader import render_to_string
    from django.urls import reverse

    from pmhub.utils import mail_subject

    from .models import ShippedMail

    sent = 0
    ideas = {i.id: i for i in Idea.objects.filter(pk__in=idea_ids).select_related("product__portal")}
    connection = get_connection()
    for email, who in shipped_recipients(idea_ids=idea_ids).items():
        fresh = []
        for idea_id in who["ideas"]:
            _, created = ShippedMail.objects.get_or_create(idea_id=idea_id, email=email)
            if created:
                fresh.append(ideas[idea_id])
        if not fresh:
            continue
        portal = getattr(fresh[0].product, "portal", None)
        unsubscribe = ""
        if who["visitor"] and portal is not None:
            token = signing.dumps({"v": who["visitor"]}, salt="discovery.unsubscribe")
            unsubscribe = settings.SITE_URL + reverse("portal:unsubscribe", kwargs={"slug": portal.slug,
                                                                                  "token": token})
        context = {"ideas": fresh, "portal": portal, "unsubscribe": unsubscribe, "site": settings.SITE_URL}
        message = EmailMultiAlternatives(
            subject=mail_subject(f"Shipped: {fresh[0].title}" + (f" and {len(fresh) - 1} more" if len(fresh) > 1
                                                                  else "")),
            body=render_to_string("emails/discovery_shipped.txt", context), to=[email], connection=connection)
        message.attach_alternative(render_to_string("emails/discovery_shipped.html", context), "text/html")
        if unsubscribe:
            message.extra_headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        message.send()
        sent += 1
    return sent


def visitor_unsubscribe(*, portal: Portal, token: str) -> Visitor | None:
    """No sign-in: the signed token in the e-mail is the authority, on its own portal only (a
    token of portal B used at portal A's address changes nothing: None). Idempotent."""
    from django.core import signing

    try:
        value = signing.loads(token, salt="discovery.unsubscribe")
    except signing.BadSignature:
        return None
    if not isinstance(value, dict):
        return None
    visitor = Visitor.objects.filter(pk=value.get("v"), portal=portal).first()
    if visitor is not None and not visitor.unsubscribed:
        Visitor.objects.filter(pk=visitor.pk).update(unsubscribed=True)
    return visitor
