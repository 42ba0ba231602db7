"""Shapes of the discovery API. Intake items are validated in discovery.intake (one pass); the
item serializers here document the payload for the OpenAPI schema."""

from rest_framework import serializers

from pmhub.api import fields as bounded
from pmhub.api.serializers import version_field

from ..models import Company, CsvImport, Highlight, Idea, Insight, Intake, Person, Portal, ReleaseNote


class CompanySerializer(serializers.ModelSerializer):
    product = bounded.IntegerField(source="product_id", read_only=True)
    segment = bounded.IntegerField(source="segment_id", read_only=True, allow_null=True)
    segment_name = serializers.CharField(source="segment.name", read_only=True, allow_null=True, default=None)
    revenue = bounded.DecimalField(max_digits=14, decimal_places=2, read_only=True, allow_null=True)

    class Meta:
        model = Company
        fields = ["id", "product", "name", "domain", "segment", "segment_name", "revenue", "currency", "plan", "tier",
                  "external_id", "version", "created_at", "updated_at"]
        read_only_fields = fields


class CompanyWriteSerializer(serializers.Serializer):
    product = bounded.IntegerField()
    name = serializers.CharField(max_length=160)
    domain = serializers.CharField(max_length=190, required=False, allow_blank=True)
    segment = bounded.IntegerField(required=False, allow_null=True, help_text="A segment of the same product.")
    revenue = bounded.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True, min_value=0)
    currency = serializers.CharField(max_length=3, required=False)
    plan = serializers.CharField(max_length=80, required=False, allow_blank=True)
    tier = serializers.CharField(max_length=80, required=False, allow_blank=True)
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    version = version_field()


class CompanyUpdateSerializer(CompanyWriteSerializer):
    product = bounded.IntegerField(required=False)
    name = serializers.CharField(max_length=160, required=False)


class CompanyUpsertSerializer(CompanyWriteSerializer):
    name = serializers.CharField(max_length=160, required=False)


class CompanyUpsertResultSerializer(serializers.Serializer):
    created = serializers.BooleanField()
    company = CompanySerializer()


class PersonSerializer(serializers.ModelSerializer):
    product = bounded.IntegerField(source="product_id", read_only=True)
    company = bounded.IntegerField(source="company_id", read_only=True, allow_null=True)

    class Meta:
        model = Person
        fields = ["id", "product", "email", "name", "company", "external_id", "version", "created_at", "updated_at"]
        read_only_fields = fields


class PersonWriteSerializer(serializers.Serializer):
    product = bounded.IntegerField()
    email = serializers.EmailField(max_length=190)
    name = serializers.CharField(max_length=160, required=False, allow_blank=True)
    company = bounded.IntegerField(required=False, allow_null=True,
                                   help_text="A company of the same product; default: the one of the e-mail's domain.")
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    version = version_field()


class PersonUpdateSerializer(PersonWriteSerializer):
    product = bounded.IntegerField(required=False)
    email = serializers.EmailField(max_length=190, required=False)


class HighlightSerializer(serializers.ModelSerializer):
    insight = bounded.IntegerField(source="insight_id", read_only=True)
    epic = bounded.IntegerField(source="epic_id", read_only=True, allow_null=True)
    story = bounded.IntegerField(source="story_id", read_only=True, allow_null=True)
    idea = bounded.IntegerField(source="idea_id", read_only=True, allow_null=True)
    importance = bounded.IntegerField(read_only=True)

    class Meta:
        model = Highlight
        fields = ["id", "insight", "passage", "importance", "epic", "story", "idea", "created_at"]
        read_only_fields = fields


class HighlightWriteSerializer(serializers.Serializer):
    passage = serializers.CharField(max_length=5000)
    importance = bounded.IntegerField(min_value=1, max_value=5, required=False, default=3)
    epic = bounded.IntegerField(required=False, allow_null=True)
    story = bounded.IntegerField(required=False, allow_null=True)
    idea = bounded.IntegerField(required=False, allow_null=True)


class InsightSerializer(serializers.ModelSerializer):
    product = bounded.IntegerField(source="product_id", read_only=True)
    owner = bounded.IntegerField(source="owner_id", read_only=True, allow_null=True)
    person = bounded.IntegerField(source="person_id", read_only=True, allow_null=True)
    company = bounded.IntegerField(source="company_id", read_only=True, allow_null=True)
    highlights = HighlightSerializer(many=True, read_only=True)
    # Blank when the sender is unknown: a plain string in the schema ("" is not an e-mail address).
    author_email = serializers.CharField(read_only=True)

    class Meta:
        model = Insight
        fields = ["id", "product", "title", "text", "channel", "key", "state", "owner", "author_email", "author_name",
                  "person", "company", "highlights", "version", "created_at", "updated_at"]
        read_only_fields = fields


class InsightWriteSerializer(serializers.Serializer):
    product = bounded.IntegerField()
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    text = serializers.CharField(max_length=20_000)
    key = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                help_text="Idempotency key, unique per product.")
    author_email = serializers.EmailField(max_length=190, required=False, allow_blank=True)
    author_name = serializers.CharField(max_length=160, required=False, allow_blank=True)
    company = bounded.IntegerField(required=False, allow_null=True)
    owner = bounded.IntegerField(required=False, allow_null=True)
    version = version_field()


class FeedbackWriteSerializer(serializers.Serializer):
    """What a customer said, linked to stories and epics in one step (services.feedback_file)."""

    product = bounded.IntegerField()
    customer = serializers.CharField(max_length=160, help_text="A company of the product by name; a new company "
                                                               "is added when none has this name.")
    quote = serializers.CharField(max_length=5000)
    source = serializers.CharField(max_length=80, required=False, allow_blank=True)
    segment = bounded.IntegerField(required=False, allow_null=True, help_text="For a new company: a segment id.")
    importance = bounded.IntegerField(min_value=1, max_value=5, required=False, default=3)
    story_ids = serializers.ListField(child=bounded.IntegerField(), required=False, max_length=500)
    epic_ids = serializers.ListField(child=bounded.IntegerField(), required=False, max_length=500)


class InsightUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    text = serializers.CharField(max_length=20_000, required=False)
    state = serializers.ChoiceField(choices=Insight.State.choices, required=False)
    owner = bounded.IntegerField(required=False, allow_null=True)
    person = bounded.IntegerField(required=False, allow_null=True)
    company = bounded.IntegerField(required=False, allow_null=True)
    version = version_field()


class IntakeItemSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=100, required=False, help_text="Idempotency key, unique per product: a "
                                                                         "re-sent id is stored once.")
    title = serializers.CharField(max_length=200, required=False)
    text = serializers.CharField(max_length=20_000)
    email = serializers.EmailField(max_length=190, required=False, help_text="Finds (or adds) the person; the "
                                                                             "domain finds the company.")
    name = serializers.CharField(max_length=160, required=False)
    company = serializers.CharField(max_length=100, required=False, help_text="A company's external id.")


class IntakeBatchSerializer(serializers.Serializer):
    product = bounded.IntegerField()
    items = IntakeItemSerializer(many=True, help_text="At most API_MAX_BATCH_SIZE (1,000) items.")


class IntakeResultSerializer(serializers.Serializer):
    accepted = bounded.IntegerField()
    created = bounded.IntegerField()
    duplicates = bounded.IntegerField(help_text="Items whose id was already in the inbox (stored once).")


class IdeaSerializer(serializers.ModelSerializer):
    product = bounded.IntegerField(source="product_id", read_only=True)
    initiative = bounded.IntegerField(source="initiative_id", read_only=True, allow_null=True)
    merged_into = bounded.IntegerField(source="merged_into_id", read_only=True, allow_null=True)
    epics = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    stories = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    vote_count = bounded.IntegerField(read_only=True)
    demand = bounded.DecimalField(max_digits=14, decimal_places=2, read_only=True,
                                  help_text="Votes weighted by importance, company revenue and segment weight.")

    class Meta:
        model = Idea
        fields = ["id", "product", "title", "description", "status", "published", "epics", "stories", "initiative",
                  "merged_into", "vote_count", "demand", "shipped_at", "version", "created_at", "updated_at"]
        read_only_fields = fields


class IdeaWriteSerializer(serializers.Serializer):
    product = bounded.IntegerField()
    title = serializers.CharField(max_length=160)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=Idea.Status.choices, required=False)
    published = serializers.BooleanField(required=False)
    epics = serializers.ListField(child=bounded.IntegerField(), required=False, max_length=200)
    stories = serializers.ListField(child=bounded.IntegerField(), required=False, max_length=500)
    initiative = bounded.IntegerField(required=False, allow_null=True)
    version = version_field()


class IdeaUpdateSerializer(IdeaWriteSerializer):
    product = bounded.IntegerField(required=False)
    title = serializers.CharField(max_length=160, required=False)


class IdeaMergeSerializer(serializers.Serializer):
    into = bounded.IntegerField(help_text="The idea of the same product that keeps the votes and followers.")


class CsvImportSerializer(serializers.ModelSerializer):
    """A CSV import of companies or insights: `parsing` -> `ready` (preview: `rows`, per-line
    `errors`) -> confirmed: `applying` -> `done` (`result`), or `failed` (`error`)."""

    product = bounded.IntegerField(source="product_id", read_only=True)
    row_count = serializers.SerializerMethodField()
    rows = serializers.SerializerMethodField()
    errors = serializers.JSONField(read_only=True, help_text="{line: {field: [message]}} of the lines skipped.")
    result = serializers.JSONField(read_only=True, help_text="Once done: {created, updated} (or {filed}).")

    class Meta:
        model = CsvImport
        fields = ["id", "product", "kind", "status", "filename", "row_count", "rows", "errors", "error", "result",
                  "created_at", "updated_at"]
        read_only_fields = fields

    def get_row_count(self, obj) -> int:
        return len(obj.rows or [])

    def get_rows(self, obj) -> list[dict]:
        """The first 50 valid rows of the preview (all of them are imported on confirm)."""
        return list((obj.rows or [])[:50])


class CsvImportUploadSerializer(serializers.Serializer):
    product = bounded.IntegerField()
    kind = serializers.ChoiceField(choices=CsvImport.Kind.choices)
    file = serializers.FileField(help_text="UTF-8 (or Excel's CSV), up to 20 MB, with a header row.")


class PortalSerializer(serializers.ModelSerializer):
    product = bounded.IntegerField(source="product_id", read_only=True)
    url = serializers.SerializerMethodField(help_text="The portal's public address (open only when `enabled`).")
    has_logo = serializers.SerializerMethodField()

    class Meta:
        model = Portal
        fields = ["product", "slug", "name", "intro", "colour", "enabled", "has_logo", "url", "version", "updated_at"]
        read_only_fields = fields

    def get_url(self, obj) -> str:
        from django.conf import settings
        from django.urls import reverse

        return settings.SITE_URL + reverse("portal:home", kwargs={"slug": obj.slug})

    def get_has_logo(self, obj) -> bool:
        return bool(obj.logo_type)


class PortalWriteSerializer(serializers.Serializer):
    slug = serializers.CharField(max_length=60, required=False, help_text="The address: /portal/<slug>/.")
    name = serializers.CharField(max_length=120, required=False)
    intro = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    colour = serializers.CharField(max_length=7, required=False, help_text="e.g. #1f6feb")
    enabled = serializers.BooleanField(required=False, help_text="The portal is open to the public.")
    version = version_field()


class ReleaseNoteSerializer(serializers.ModelSerializer):
    product = bounded.IntegerField(source="portal.product_id", read_only=True)
    release = bounded.IntegerField(source="release_id", read_only=True, allow_null=True)

    class Meta:
        model = ReleaseNote
        fields = ["id", "product", "title", "body", "release", "published_at"]
        read_only_fields = fields


class ReleaseNoteWriteSerializer(serializers.Serializer):
    product = bounded.IntegerField()
    title = serializers.CharField(max_length=160)
    body = serializers.CharField(max_length=20_000)
    release = bounded.IntegerField(required=False, allow_null=True)


class IntakeSerializer(serializers.ModelSerializer):
    product = bounded.IntegerField(source="product_id", read_only=True)
    email_address = serializers.CharField(read_only=True, help_text="Forward feedback here: one insight per message.")
    form_key = serializers.CharField(read_only=True, help_text="The embeddable form's key (data-pmhub-key).")
    form_origins = serializers.SerializerMethodField()

    class Meta:
        model = Intake
        fields = ["product", "email_address", "form_key", "form_enabled", "form_origins", "version", "updated_at"]
        read_only_fields = fields

    def get_form_origins(self, obj) -> list[str]:
        return [o for o in (obj.form_origins or "").splitlines() if o]


class IntakeUpdateSerializer(serializers.Serializer):
    form_enabled = serializers.BooleanField(required=False)
    form_origins = serializers.ListField(child=serializers.CharField(max_length=200), max_length=20, required=False,
                                         help_text="Web origins that may show the form, e.g. https://app.example.com.")
    version = version_field()
