"""Discovery tables: the companies and people who ask, and the insights inbox of a product.

Companies and people belong to one product (like everything else in a workspace), so a company's
segment is one of that product's segments (roadmaps.Segment). Insights are the new home of
customer feedback (docs/decisions/1600-*.md); backlog.Feedback stays readable beside them.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Company(models.Model):
    """A customer (or prospect) account. `external_id` and `domain` are the keys a CRM sync
    upserts by; each is unique within the product when set."""

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="companies")
    name = models.CharField(max_length=160)
    domain = models.CharField(max_length=190, blank=True, help_text="e.g. acme.com: people with an e-mail "
                                                                     "address there belong to this company.")
    segment = models.ForeignKey("roadmaps.Segment", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="companies")
    revenue = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True,
                                  help_text="Yearly revenue or ARR from this company.")
    currency = models.CharField(max_length=3, default="EUR")
    plan = models.CharField(max_length=80, blank=True)
    tier = models.CharField(max_length=80, blank=True)
    external_id = models.CharField(max_length=100, blank=True, help_text="The company's id in your CRM.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)  # optimistic locking: pmhub.utils.version_claim

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "companies"
        constraints = [
            models.UniqueConstraint(fields=["product", "external_id"], condition=~Q(external_id=""),
                                    name="discovery_company_unique_external_id"),
            models.UniqueConstraint(fields=["product", "domain"], condition=~Q(domain=""),
                                    name="discovery_company_unique_domain"),
        ]

    def __str__(self):
        return self.name


class Person(models.Model):
    """Someone at a customer who asks for things; found again by e-mail address."""

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="people")
    email = models.EmailField(max_length=190)
    name = models.CharField(max_length=160, blank=True)
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="people")
    external_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)  # optimistic locking: pmhub.utils.version_claim

    class Meta:
        ordering = ["name", "email", "id"]
        verbose_name_plural = "people"
        constraints = [
            models.UniqueConstraint(fields=["product", "email"], name="discovery_person_unique_email"),
            models.UniqueConstraint(fields=["product", "external_id"], condition=~Q(external_id=""),
                                    name="discovery_person_unique_external_id"),
        ]

    def __str__(self):
        return self.name or self.email

    @property
    def label(self) -> str:
        return self.name or self.email


class Insight(models.Model):
    """One piece of customer feedback in a product's inbox: what someone said, through which
    channel, who said it (person and company when they can be resolved) and where it stands."""

    class State(models.TextChoices):
        NEW = "new", "New"
        REVIEWED = "reviewed", "Reviewed"
        ARCHIVED = "archived", "Archived"

    class Channel(models.TextChoices):
        MANUAL = "manual", "By hand"
        API = "api", "API"
        EMAIL = "email", "E-mail"
        FORM = "form", "Feedback form"
        CSV = "csv", "CSV import"
        FEEDBACK = "feedback", "Backlog feedback"

    id = models.BigAutoField(primary_key=True)
    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="insights")
    title = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    channel = models.CharField(max_length=12, choices=Channel.choices, default=Channel.MANUAL)
    # Idempotency key of an API (or CSV) item, unique per product: a re-sent item is stored once.
    key = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.NEW)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    author_email = models.EmailField(max_length=190, blank=True)
    author_name = models.CharField(max_length=160, blank=True)
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="insights")
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="insights")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)  # optimistic locking: pmhub.utils.version_claim

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "key"], condition=~Q(key=""),
                                    name="discovery_insight_unique_key"),
        ]
        # The inbox: one product's insights in one state, newest first.
        indexes = [models.Index(fields=["product", "state", "-created_at", "-id"], name="discovery_inbox")]

    def __str__(self):
        return self.title or self.text[:60]

    @property
    def label(self) -> str:
        return self.title or self.text[:80]


class Highlight(models.Model):
    """A passage of an insight that speaks for an idea, an epic or a story, with how much it matters."""

    insight = models.ForeignKey(Insight, on_delete=models.CASCADE, related_name="highlights")
    passage = models.TextField()
    importance = models.PositiveSmallIntegerField(default=3, help_text="1 (nice to have) to 5 (critical).")
    epic = models.ForeignKey("backlog.Epic", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="highlights")
    story = models.ForeignKey("backlog.Story", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="highlights")
    # A passage may speak for a customer idea (what they ask for) rather than the team's work: it adds
    # to the idea's demand and its author hears when the idea ships (decision 1615).
    idea = models.ForeignKey("Idea", null=True, blank=True, on_delete=models.CASCADE, related_name="highlights")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(epic__isnull=False) | Q(story__isnull=False) | Q(idea__isnull=False),
                                   name="discovery_highlight_links_work_or_idea"),
            models.CheckConstraint(condition=Q(importance__gte=1, importance__lte=5),
                                   name="discovery_highlight_importance_1_5"),
        ]

    def __str__(self):
        return self.passage[:60]


class CsvImport(models.Model):
    """A CSV of companies or insights: stored by the request, parsed by the worker into a preview
    (docs/decisions/1213), applied by the worker once a person confirms it."""

    class Kind(models.TextChoices):
        COMPANIES = "companies", "Companies"
        INSIGHTS = "insights", "Insights"

    class Status(models.TextChoices):
        PARSING = "parsing", "Reading the file"
        READY = "ready", "Ready to import"
        APPLYING = "applying", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed"

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="discovery_imports")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PARSING)
    filename = models.CharField(max_length=255, blank=True)
    raw = models.BinaryField(null=True, blank=True)
    # Valid rows as clean dicts (JSON), and per-line errors {line: {field: [messages]}}.
    rows = models.JSONField(default=list, blank=True)
    errors = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} import {self.filename}"


class Intake(models.Model):
    """How a product's inbox receives feedback from outside: the e-mail address token
    (`<email_token>@INBOUND_EMAIL_DOMAIN`) and the embeddable form's public key with the origins
    (web sites) that may post to it. Made on first use."""

    product = models.OneToOneField("roadmaps.Product", on_delete=models.CASCADE, related_name="discovery_intake")
    email_token = models.CharField(max_length=24, unique=True)
    form_key = models.CharField(max_length=48, unique=True)
    form_enabled = models.BooleanField(default=False)
    # One origin per line, e.g. https://app.example.com (scheme, host and port; no path).
    form_origins = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)  # optimistic locking: pmhub.utils.version_claim

    def __str__(self):
        return f"Intake of {self.product_id}"

    @property
    def origins(self) -> list[str]:
        return [o.strip().rstrip("/").lower() for o in self.form_origins.splitlines() if o.strip()]

    @property
    def email_address(self) -> str:
        return f"{self.email_token}@{settings.INBOUND_EMAIL_DOMAIN}"


class InboundEmail(models.Model):
    """A message received by the SMTP listener for one product, filed by the worker. (product,
    message_id) is unique: a message delivered twice is filed once."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        FILED = "filed", "Filed"
        REFUSED = "refused", "Refused"

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="inbound_emails")
    message_id = models.CharField(max_length=100)
    raw = models.BinaryField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    error = models.CharField(max_length=300, blank=True)
    insight = models.ForeignKey(Insight, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "message_id"],
                                               name="discovery_inbound_unique_message")]

    def __str__(self):
        return self.message_id


# --- ideas and the public portal ----------------------------------------------------------------------
class Portal(models.Model):
    """A product's public ideas portal at /portal/<slug>/ (off by default). Visitors are not
    workspace users: they sign in with an e-mailed link (docs/decisions/1604-portal-security.md)."""

    product = models.OneToOneField("roadmaps.Product", on_delete=models.CASCADE, related_name="portal")
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    intro = models.TextField(blank=True, help_text="A sentence or two shown on top of the portal.")
    colour = models.CharField(max_length=7, default="#1f6feb", help_text="Accent colour, e.g. #1f6feb.")
    enabled = models.BooleanField(default=False)
    # The portal's logo, checked by its content (services.portal_logo_set) and served by
    # portal:logo with the type found there (decision 1612).
    logo = models.BinaryField(null=True, blank=True, editable=False)
    logo_type = models.CharField(max_length=20, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)  # optimistic locking: pmhub.utils.version_claim

    def __str__(self):
        return self.name


class Visitor(models.Model):
    """Someone signed in to one portal by e-mail link. Never shown to other visitors by e-mail."""

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="visitors")
    email = models.EmailField(max_length=190)
    name = models.CharField(max_length=80, blank=True)
    unsubscribed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["portal", "email"], name="discovery_visitor_unique_email")]

    def __str__(self):
        return self.name or "A visitor"

    @property
    def public_name(self) -> str:
        """What other visitors see: the chosen name, else the part before the @ cut short."""
        return self.name or (self.email.split("@")[0][:3] + "…")


class MagicLink(models.Model):
    """A single-use, expiring sign-in link (only its hash is stored)."""

    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Sign-in link of visitor {self.visitor_id}"


class Idea(models.Model):
    """What customers ask for, in their words, on the portal (or filed by the PM). Not an epic: an
    idea is demand, an epic is work; the PM links one to the other (docs/decisions/1600)."""

    class Status(models.TextChoices):
        UNDER_CONSIDERATION = "under_consideration", "Under consideration"
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        SHIPPED = "shipped", "Shipped"
        NOT_PLANNED = "not_planned", "Not planned"

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="ideas")
    title = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.UNDER_CONSIDERATION)
    published = models.BooleanField(default=False)
    author = models.ForeignKey(Visitor, null=True, blank=True, on_delete=models.SET_NULL, related_name="ideas")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged")
    epics = models.ManyToManyField("backlog.Epic", blank=True, related_name="ideas")
    stories = models.ManyToManyField("backlog.Story", blank=True, related_name="ideas")
    initiative = models.ForeignKey("roadmaps.Initiative", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="ideas")
    # Kept by services: votes counted once per visitor; demand = votes weighted (discovery/demand.py).
    vote_count = models.PositiveIntegerField(default=0)
    demand = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    shipped_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)  # optimistic locking: pmhub.utils.version_claim

    class Meta:
        ordering = ["-vote_count", "-id"]
        # The demand-ordered list (page and API): one product's ideas, highest demand first.
        indexes = [models.Index(fields=["product", "-demand", "-id"], name="discovery_idea_demand")]

    def __str__(self):
        return self.title


class Vote(models.Model):
    class Importance(models.IntegerChoices):
        NICE = 1, "Nice to have"
        IMPORTANT = 2, "Important"
        CRITICAL = 3, "Critical"

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="votes")
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="votes")
    importance = models.PositiveSmallIntegerField(choices=Importance.choices, default=Importance.IMPORTANT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["idea", "visitor"], name="discovery_vote_once")]
        indexes = [models.Index(fields=["visitor", "idea"], name="discovery_vote_visitor")]

    def __str__(self):
        return f"Vote on idea {self.idea_id}"


class Follow(models.Model):
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="follows")
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="follows")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["idea", "visitor"], name="discovery_follow_once")]

    def __str__(self):
        return f"Follow of idea {self.idea_id}"


class Comment(models.Model):
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="comments")
    visitor = models.ForeignKey(Visitor, null=True, blank=True, on_delete=models.CASCADE, related_name="comments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.body[:60]


class ReleaseNote(models.Model):
    """What shipped, in customers' words, on the portal and in its Atom feed."""

    portal = models.ForeignKey(Portal, on_delete=models.CASCADE, related_name="release_notes")
    title = models.CharField(max_length=160)
    body = models.TextField()
    release = models.ForeignKey("roadmaps.Release", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    published_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-published_at", "-id"]

    def __str__(self):
        return self.title


class ShippedMail(models.Model):
    """(idea, address) told that the idea shipped: a retried or repeated run mails nobody twice."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField(max_length=190)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["idea", "email"], name="discovery_shipped_mail_once")]

    def __str__(self):
        return f"Shipped idea {self.idea_id} mailed"
