"""Governance tables: the risk and issue register of a product, its risk appetite, the
mediation log of issues, and business impact statements with their revisions and decisions
(docs/governance.md, docs/decisions/1500-1505)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from .scoring import MAX_SCORE, risk_score

DEFAULT_APPETITE = 12  # the highest acceptable score (of 25) until the product sets its own


class ProductGovernance(models.Model):
    """Governance settings of one product (kept here so the roadmaps app does not know governance)."""

    product = models.OneToOneField("roadmaps.Product", on_delete=models.CASCADE, related_name="governance")
    risk_appetite = models.PositiveSmallIntegerField(
        default=DEFAULT_APPETITE, validators=[MinValueValidator(1), MaxValueValidator(MAX_SCORE)],
        help_text="The highest acceptable risk score (likelihood x impact, 1-25); a risk above it is flagged.")
    stage = models.CharField(max_length=12, default="growth", choices=[
        ("idea", "Idea"), ("development", "Development"), ("introduction", "Introduction"), ("growth", "Growth"),
        ("maturity", "Maturity"), ("decline", "Decline"), ("retired", "Retired")])
    decline_periods = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text="Months of decline in adoption and KPIs before PMHub proposes the decline stage.")
    require_impact_statement = models.BooleanField(
        default=False, help_text="An initiative needs an approved business impact statement before it is planned.")
    version = models.PositiveIntegerField(default=1)  # optimistic locking: pmhub.utils.version_claim
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(risk_appetite__gte=1) & Q(risk_appetite__lte=MAX_SCORE),
                                              name="governance_appetite_range")]

    def __str__(self):
        return f"Governance of {self.product_id}"


class Risk(models.Model):
    """A risk (may happen: likelihood x impact) or an issue (has happened: its likelihood is
    certain, 5, and its severity is the impact), in one register so that one heat map, one
    appetite and one set of links serve both."""

    class Kind(models.TextChoices):
        RISK = "risk", "Risk"
        ISSUE = "issue", "Issue"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        MITIGATING = "mitigating", "Mitigating"
        ACCEPTED = "accepted", "Accepted"
        CLOSED = "closed", "Closed"

    class Trend(models.TextChoices):
        RISING = "rising", "Rising"
        STEADY = "steady", "Steady"
        FALLING = "falling", "Falling"

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="risks")
    kind = models.CharField(max_length=5, choices=Kind.choices, default=Kind.RISK)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=5000)
    likelihood = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1), MaxValueValidator(5)])
    impact = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1), MaxValueValidator(5)],
                                              help_text="For an issue: its severity.")
    score = models.PositiveSmallIntegerField(default=9, editable=False)  # scoring.risk_score, kept by the model
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    mitigation = models.TextField(blank=True, max_length=5000,
                                  help_text="Mitigation plan (risk) or resolution (issue).")
    due_date = models.DateField(null=True, blank=True)
    review_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    trend = models.CharField(max_length=7, choices=Trend.choices, default=Trend.STEADY)
    initiatives = models.ManyToManyField("roadmaps.Initiative", blank=True, related_name="risks")
    releases = models.ManyToManyField("roadmaps.Release", blank=True, related_name="risks")
    epics = models.ManyToManyField("backlog.Epic", blank=True, related_name="risks")
    kpis = models.ManyToManyField("metrics.Kpi", blank=True, related_name="risks")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    # Notification bookkeeping of the worker (tasks.py): the score last notified as above the
    # appetite (0: none), and the review date whose passing was notified.
    notified_score = models.PositiveSmallIntegerField(default=0, editable=False)
    review_notified_for = models.DateField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-score", "id"]
        indexes = [models.Index(fields=["product", "status", "-score"], name="risk_product_status_score")]
        constraints = [
            models.CheckConstraint(condition=Q(likelihood__gte=1) & Q(likelihood__lte=5), name="risk_likelihood_1_5"),
            models.CheckConstraint(condition=Q(impact__gte=1) & Q(impact__lte=5), name="risk_impact_1_5"),
            # An issue has happened: its likelihood is certain.
            models.CheckConstraint(condition=~Q(kind="issue") | Q(likelihood=5), name="risk_issue_is_certain"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if self.kind == self.Kind.ISSUE:
            self.likelihood = 5
        self.score = risk_score(self.likelihood, self.impact)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and ({"likelihood", "impact", "kind"} & set(update_fields)):
            kwargs["update_fields"] = list(set(update_fields) | {"score", "likelihood"})
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED


class IssueNote(models.Model):
    """One line of an issue's mediation log: a decision or step, who recorded it and when."""

    risk = models.ForeignKey(Risk, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.text[:60]


class ImpactStatement(models.Model):
    """The business impact statement of an initiative or of a change request: every revision and
    every decision is kept (ImpactRevision, ImpactDecision); `revision` names the current one.
    Approvers are a role (anyone with at least `approver_role` in the workspace) or, when
    `approvers` is not empty, exactly those named members."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        AWAITING = "awaiting", "Awaiting approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    class ApproverRole(models.IntegerChoices):
        EDITOR = 20, "Editors and admins"
        ADMIN = 30, "Admins"

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="impact_statements")
    initiative = models.OneToOneField("roadmaps.Initiative", null=True, blank=True, on_delete=models.CASCADE,
                                      related_name="impact_statement")
    change_request = models.OneToOneField("delivery.ChangeRequest", null=True, blank=True, on_delete=models.CASCADE,
                                          related_name="impact_statement")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    revision = models.PositiveIntegerField(default=1)
    approver_role = models.PositiveSmallIntegerField(choices=ApproverRole.choices, default=ApproverRole.ADMIN)
    approvers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    # The revision whose approvers were told (the worker's bookkeeping: a retry tells nobody twice).
    notified_revision = models.PositiveIntegerField(default=0, editable=False)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [models.CheckConstraint(
            condition=(Q(initiative__isnull=False) & Q(change_request__isnull=True))
            | (Q(initiative__isnull=True) & Q(change_request__isnull=False)),
            name="impact_statement_one_subject")]

    def __str__(self):
        subject = self.initiative or self.change_request
        return f"Impact statement of {subject}"


class ImpactRevision(models.Model):
    """One version of a statement's text, as written; never changed afterwards."""

    statement = models.ForeignKey(ImpactStatement, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    benefit = models.TextField(max_length=5000, help_text="Expected benefit (Markdown).")
    cost = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True,
                               help_text="Expected cost, in the workspace's currency.")
    processes = models.TextField(blank=True, max_length=5000, help_text="Business processes affected.")
    people = models.TextField(blank=True, max_length=5000, help_text="People and teams affected.")
    risk = models.TextField(blank=True, max_length=5000, help_text="Risks of doing it (and of not doing it).")
    assumptions = models.TextField(blank=True, max_length=5000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["statement", "number"], name="impact_revision_number")]

    def __str__(self):
        return f"Revision {self.number}"


class ImpactDecision(models.Model):
    """An approver's decision on one revision, with the comment; kept for the record."""

    class Decision(models.TextChoices):
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    statement = models.ForeignKey(ImpactStatement, on_delete=models.CASCADE, related_name="decisions")
    revision = models.PositiveIntegerField()
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decision = models.CharField(max_length=8, choices=Decision.choices)
    comment = models.TextField(blank=True, max_length=2000)
    requester_notified = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_decision_display()} revision {self.revision}"


class LaunchCategory(models.TextChoices):
    DOCUMENTATION = "documentation", "Documentation"
    MARKETING = "marketing", "Marketing"
    SALES = "sales", "Sales enablement"
    SUPPORT = "support", "Support readiness"
    LEGAL = "legal", "Legal and compliance"
    OTHER = "other", "Other"


class ChecklistTemplate(models.Model):
    """A workspace's launch checklist template; applying it to a release copies its items."""

    workspace = models.ForeignKey("pmhub.Workspace", on_delete=models.CASCADE, related_name="launch_templates")
    name = models.CharField(max_length=120)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="launch_template_name")]

    def __str__(self):
        return self.name


class ChecklistTemplateItem(models.Model):
    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE, related_name="items")
    category = models.CharField(max_length=13, choices=LaunchCategory.choices, default=LaunchCategory.OTHER)
    title = models.CharField(max_length=200)
    required = models.BooleanField(default=True)
    days_before = models.PositiveSmallIntegerField(default=7, validators=[MaxValueValidator(365)],
                                                   help_text="Due this many days before the release date.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.title


class LaunchItem(models.Model):
    """One item of a release's launch checklist: done when `done_at` is set."""

    release = models.ForeignKey("roadmaps.Release", on_delete=models.CASCADE, related_name="launch_items")
    category = models.CharField(max_length=13, choices=LaunchCategory.choices, default=LaunchCategory.OTHER)
    title = models.CharField(max_length=200)
    required = models.BooleanField(default=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    due_date = models.DateField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["release", "required", "done_at"], name="launch_item_release_open")]

    def __str__(self):
        return self.title

    @property
    def done(self) -> bool:
        return self.done_at is not None


class ShipOverride(models.Model):
    """A release shipped although required launch items were open: who, why, and which items."""

    release = models.ForeignKey("roadmaps.Release", on_delete=models.CASCADE, related_name="ship_overrides")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=500)
    open_items = models.JSONField(default=list, help_text="Titles of the required items open at the time.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Shipped {self.release_id} with {len(self.open_items)} open items"


class PortfolioSettings(models.Model):
    """The workspace portfolio's one scoring model (governance.portfolio) and its weights."""

    class Model(models.TextChoices):
        WSJF = "wsjf", "WSJF: (value + time criticality + risk reduction) / cost"
        VALUE_COST = "value_cost", "Value / cost"
        WEIGHTED = "weighted", "Weighted: (value, strategic fit, minus risk) / cost"

    workspace = models.OneToOneField("pmhub.Workspace", on_delete=models.CASCADE, related_name="portfolio")
    model = models.CharField(max_length=10, choices=Model.choices, default=Model.WSJF)
    weight_value = models.PositiveSmallIntegerField(default=1, validators=[MaxValueValidator(10)])
    weight_fit = models.PositiveSmallIntegerField(default=1, validators=[MaxValueValidator(10)])
    weight_risk = models.PositiveSmallIntegerField(default=1, validators=[MaxValueValidator(10)])
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Portfolio of {self.workspace_id}"


class PortfolioCapacity(models.Model):
    """Capacity (person-weeks) of the workspace in one quarter ("2027-Q1")."""

    workspace = models.ForeignKey("pmhub.Workspace", on_delete=models.CASCADE, related_name="portfolio_capacity")
    quarter = models.CharField(max_length=7, validators=[RegexValidator(r"^\d{4}-Q[1-4]$", "Like 2027-Q1.")])
    capacity = models.DecimalField(max_digits=8, decimal_places=1, validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["quarter"]
        constraints = [models.UniqueConstraint(fields=["workspace", "quarter"], name="portfolio_capacity_quarter")]

    def __str__(self):
        return f"{self.quarter}: {self.capacity}"


class PortfolioEntry(models.Model):
    """An initiative's portfolio inputs and the governance group's decision (fund, defer, stop)."""

    class Decision(models.TextChoices):
        FUND = "fund", "Fund"
        DEFER = "defer", "Defer"
        STOP = "stop", "Stop"

    initiative = models.OneToOneField("roadmaps.Initiative", on_delete=models.CASCADE, related_name="portfolio_entry")
    value = models.PositiveSmallIntegerField(default=5, validators=[MinValueValidator(1), MaxValueValidator(10)])
    time_criticality = models.PositiveSmallIntegerField(default=5,
                                                        validators=[MinValueValidator(1), MaxValueValidator(10)])
    risk_reduction = models.PositiveSmallIntegerField(default=5,
                                                      validators=[MinValueValidator(1), MaxValueValidator(10)])
    cost = models.DecimalField(max_digits=8, decimal_places=1, default=1,
                               validators=[MinValueValidator(Decimal("0.1"))], help_text="Person-weeks.")
    decision = models.CharField(max_length=5, choices=Decision.choices, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(cost__gt=0), name="portfolio_entry_cost_positive")]

    def __str__(self):
        return f"Portfolio entry of {self.initiative_id}"


class StageChange(models.Model):
    """A product's lifecycle stage changed: the history, with who, why and the proposal if any."""

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=12)
    to_stage = models.CharField(max_length=12)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.from_stage} -> {self.to_stage}"


class StageProposal(models.Model):
    """PMHub's proposal of a stage change from the evidence (a Celery task computes it)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        DISMISSED = "dismissed", "Dismissed"

    product = models.ForeignKey("roadmaps.Product", on_delete=models.CASCADE, related_name="stage_proposals")
    to_stage = models.CharField(max_length=12)
    evidence = models.JSONField(default=dict, help_text="{signal: {values, declining}} the proposal rests on.")
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["product"], condition=Q(status="open"),
                                               name="stage_proposal_one_open")]

    def __str__(self):
        return f"Propose {self.to_stage} for {self.product_id}"
