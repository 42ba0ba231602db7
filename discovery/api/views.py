"""Discovery API: companies (with a CRM upsert), people, the insights inbox (with bulk intake,
an idempotency key per item) and highlights. User tokens or session, ScopedViewSet."""

import django_filters
from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from pmhub.api.base import CRUD_MIXINS, CRUD_ROLES, READ_ROLES, ScopedViewSet
from pmhub.api.filters import ScopedFilterBackend
from pmhub.api.ordering import OrderingFilter
from pmhub.api.pagination import CursorPagination
from pmhub.api.parsers import JSONParser
from pmhub.models import Role
from pmhub.ordering import Orderings
from roadmaps.selectors import product_for_user

from .. import services
from ..intake import BatchInvalid, BatchTooLarge
from ..models import Company, CsvImport, Highlight, Idea, Insight, Intake, Person, Portal, ReleaseNote
from . import serializers as s

ERROR = OpenApiResponse(description="The one error format: {detail, code, errors}.")
COMPANY_ORDERINGS = Orderings({
    "name": ("name", "id"),
    "-revenue": ("-revenue?", "name", "id"),
    "revenue": ("revenue?", "name", "id"),
    "-created_at": ("-created_at", "-id"),
}, default="name")
INSIGHT_ORDERINGS = Orderings({"-created_at": ("-created_at", "-id"), "created_at": ("created_at", "id")},
                              default="-created_at")


def _valid(serializer_class, data, partial=False) -> dict:
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    data = dict(serializer.validated_data)
    data.pop("version", None)
    return data


def _product(request, product_id):
    return product_for_user(user=request.user, product_id=product_id)


def _in_product(model, product, pk, field):
    """A related row by id, only within the product (anything else reads as missing: no leak)."""
    if pk is None:
        return None
    row = model.objects.filter(pk=pk, product=product).first()
    if row is None:
        raise ValidationError({field: f"No such {model._meta.verbose_name} in this product."})
    return row


def _segment(product, pk):
    if pk is None:
        return None
    row = product.segments.filter(pk=pk).first()
    if row is None:
        raise ValidationError({"segment": "No such segment in this product."})
    return row


def _member(product, pk, field="owner"):
    if pk is None:
        return None
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=pk, memberships__workspace_id=product.workspace_id).first()
    if user is None:
        raise ValidationError({field: "Choose a member of this workspace."})
    return user


class CompanyViewSet(ScopedViewSet, *CRUD_MIXINS):
    """The companies that ask: revenue, segment, plan. `upsert/` matches by external id, then domain."""

    workspace_field = "product__workspace"
    serializer_class = s.CompanySerializer
    write_serializer_class = s.CompanyWriteSerializer
    filter_backends = [ScopedFilterBackend, OrderingFilter]
    orderings = COMPANY_ORDERINGS
    filterset_fields = ["product", "segment", "external_id", "domain"]
    action_roles = CRUD_ROLES | {"upsert": Role.EDITOR}

    def base_queryset(self):
        return Company.objects.filter(product__deleted_at__isnull=True).select_related("segment")

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return s.CompanyUpdateSerializer
        if self.action == "upsert":
            return s.CompanyUpsertSerializer
        return super().get_serializer_class()

    def _data(self, product, data):
        if "segment" in data:
            data["segment"] = _segment(product, data["segment"])
        return data

    @extend_schema(request=s.CompanyWriteSerializer, responses={201: s.CompanySerializer, 400: ERROR})
    def create(self, request, *args, **kwargs):
        data = _valid(s.CompanyWriteSerializer, request.data)
        product = _product(request, data.pop("product"))
        company = services.company_create(user=request.user, product=product, data=self._data(product, data))
        return Response(s.CompanySerializer(company).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.CompanyUpdateSerializer, responses={200: s.CompanySerializer, 400: ERROR, 409: ERROR})
    def update(self, request, *args, **kwargs):
        company = self.get_object()
        data = _valid(s.CompanyUpdateSerializer, request.data, partial=kwargs.get("partial", False))
        if "product" in data and data.pop("product") != company.product_id:
            raise ValidationError({"product": "A company cannot move to another product."})
        services.company_update(user=request.user, company=company, data=self._data(company.product, data),
                                version=self.expected_version(company))
        return Response(s.CompanySerializer(company).data)

    @extend_schema(request=s.CompanyUpdateSerializer, responses={200: s.CompanySerializer, 400: ERROR, 409: ERROR})
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        services.company_delete(user=request.user, company=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.CompanyUpsertSerializer,
                   responses={200: s.CompanyUpsertResultSerializer, 201: s.CompanyUpsertResultSerializer,
                              400: ERROR},
                   description="Create or update a company found by `external_id`, else by `domain` (a CRM "
                               "sync): the same record sent twice changes nothing the second time. No version "
                               "needed: the sync's record wins.")
    @action(detail=False, methods=["post"])
    def upsert(self, request):
        data = _valid(s.CompanyUpsertSerializer, request.data)
        product = _product(request, data.pop("product"))
        company, created = services.company_upsert(user=request.user, product=product,
                                                   data=self._data(product, data))
        return Response({"created": created, "company": s.CompanySerializer(company).data},
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class PersonViewSet(ScopedViewSet, *CRUD_MIXINS):
    """People at customers, found again by e-mail address."""

    workspace_field = "product__workspace"
    serializer_class = s.PersonSerializer
    write_serializer_class = s.PersonWriteSerializer
    filterset_fields = ["product", "company", "email", "external_id"]
    action_roles = CRUD_ROLES

    def base_queryset(self):
        return Person.objects.filter(product__deleted_at__isnull=True).order_by("email", "id")

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return s.PersonUpdateSerializer
        return super().get_serializer_class()

    @extend_schema(request=s.PersonWriteSerializer, responses={201: s.PersonSerializer, 400: ERROR})
    def create(self, request, *args, **kwargs):
        data = _valid(s.PersonWriteSerializer, request.data)
        product = _product(request, data.pop("product"))
        if "company" in data:
            data["company"] = _in_product(Company, product, data["company"], "company")
        person = services.person_create(user=request.user, product=product, data=data)
        return Response(s.PersonSerializer(person).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.PersonUpdateSerializer, responses={200: s.PersonSerializer, 400: ERROR, 409: ERROR})
    def update(self, request, *args, **kwargs):
        person = self.get_object()
        data = _valid(s.PersonUpdateSerializer, request.data, partial=kwargs.get("partial", False))
        if "product" in data and data.pop("product") != person.product_id:
            raise ValidationError({"product": "A person cannot move to another product."})
        if "company" in data:
            data["company"] = _in_product(Company, person.product, data["company"], "company")
        services.person_update(user=request.user, person=person, data=data, version=self.expected_version(person))
        return Response(s.PersonSerializer(person).data)

    @extend_schema(request=s.PersonUpdateSerializer, responses={200: s.PersonSerializer, 400: ERROR, 409: ERROR})
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        services.person_delete(user=request.user, person=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class FeedbackViewSet(ScopedViewSet):
    """Customer feedback linked to stories and epics in one step: filed into the insights inbox as
    an insight of channel "feedback" highlighted for each (decision 1613). Create only: read and
    change it as an insight (`/api/v1/insights/`)."""

    workspace_field = "product__workspace"
    serializer_class = s.InsightSerializer
    write_serializer_class = s.FeedbackWriteSerializer
    action_roles = {"create": Role.EDITOR}

    def base_queryset(self):
        return Insight.objects.filter(product__deleted_at__isnull=True)

    @extend_schema(request=s.FeedbackWriteSerializer, responses={201: s.InsightSerializer, 400: ERROR})
    def create(self, request, *args, **kwargs):
        data = _valid(s.FeedbackWriteSerializer, request.data)
        product = _product(request, data.pop("product"))
        segment = _segment(product, data.pop("segment", None))
        insight = services.feedback_file(user=request.user, product=product, segment=segment, **data)
        return Response(s.InsightSerializer(Insight.objects.prefetch_related("highlights").get(pk=insight.pk)).data,
                        status=status.HTTP_201_CREATED)


class InsightViewSet(ScopedViewSet, *CRUD_MIXINS):
    """The insights inbox. `bulk/` files up to 1,000 items at once, each with an idempotency `id`."""

    workspace_field = "product__workspace"
    serializer_class = s.InsightSerializer
    write_serializer_class = s.InsightWriteSerializer
    pagination_class = CursorPagination
    filter_backends = [ScopedFilterBackend, OrderingFilter]
    orderings = INSIGHT_ORDERINGS
    filterset_fields = ["product", "state", "channel", "owner", "company", "person"]
    action_roles = CRUD_ROLES | {"bulk": Role.EDITOR, "highlights": Role.EDITOR}
    plain_object_actions = frozenset({"update", "partial_update"})  # answered by a fresh read

    def base_queryset(self):
        return (Insight.objects.filter(product__deleted_at__isnull=True)
                .prefetch_related("highlights"))

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return s.InsightUpdateSerializer
        if self.action == "bulk":
            return s.IntakeBatchSerializer
        return super().get_serializer_class()

    @extend_schema(request=s.InsightWriteSerializer, responses={201: s.InsightSerializer, 400: ERROR})
    def create(self, request, *args, **kwargs):
        data = _valid(s.InsightWriteSerializer, request.data)
        product = _product(request, data.pop("product"))
        if "company" in data:
            data["company"] = _in_product(Company, product, data["company"], "company")
        if "owner" in data:
            data["owner"] = _member(product, data["owner"])
        insight = services.insight_create(user=request.user, product=product, data=data)
        return Response(s.InsightSerializer(insight).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.InsightUpdateSerializer, responses={200: s.InsightSerializer, 400: ERROR, 409: ERROR})
    def update(self, request, *args, **kwargs):
        insight = self.get_object()
        data = _valid(s.InsightUpdateSerializer, request.data, partial=True)
        product = insight.product
        if "company" in data:
            data["company"] = _in_product(Company, product, data["company"], "company")
        if "person" in data:
            data["person"] = _in_product(Person, product, data["person"], "person")
        if "owner" in data:
            data["owner"] = _member(product, data["owner"])
        services.insight_update(user=request.user, insight=insight, data=data,
                                version=self.expected_version(insight))
        return Response(s.InsightSerializer(Insight.objects.prefetch_related("highlights").get(pk=insight.pk)).data)

    @extend_schema(request=s.InsightUpdateSerializer, responses={200: s.InsightSerializer, 400: ERROR, 409: ERROR})
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)

    def destroy(self, request, *args, **kwargs):
        services.insight_delete(user=request.user, insight=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=s.IntakeBatchSerializer,
        responses={202: s.IntakeResultSerializer, 400: ERROR, 413: ERROR},
        description="File up to 1,000 insights. Each may carry an idempotency `id`: a re-sent item is stored once. "
                    "If any item is invalid, nothing is stored and the 400 lists the errors per item index "
                    "(`errors.items.<index>.<field>`).",
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        data = request.data
        if not isinstance(data, dict):
            raise DRFValidationError({"items": ["Send {\"product\": <id>, \"items\": [...]}."]})
        try:
            product_id = int(data.get("product"))
        except (TypeError, ValueError):
            raise DRFValidationError({"product": ["A product id."]}) from None
        product = _product(request, product_id)
        try:
            result = services.insights_intake(product=product, items=data.get("items"), user=request.user)
        except BatchTooLarge as exc:
            return Response({"detail": str(exc), "code": "batch_too_large", "errors": {}},
                            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        except BatchInvalid as exc:
            raise DRFValidationError({"items": exc.errors}) from None
        return Response(result, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=s.HighlightWriteSerializer, responses={201: s.HighlightSerializer, 400: ERROR},
                   description="Link a passage of the insight to an idea, an epic or a story of its product, "
                               "with an importance (1-5).")
    @action(detail=True, methods=["post"])
    def highlights(self, request, pk=None):
        from backlog.models import Epic, Story

        insight = self.get_object()
        data = _valid(s.HighlightWriteSerializer, request.data)
        product = insight.product
        epic = _in_product(Epic, product, data.get("epic"), "epic")
        story = _in_product(Story, product, data.get("story"), "story")
        idea = _in_product(Idea, product, data.get("idea"), "idea")
        highlight = services.highlight_create(user=request.user, insight=insight, passage=data["passage"],
                                              importance=data.get("importance", 3), epic=epic, story=story,
                                              idea=idea)
        return Response(s.HighlightSerializer(highlight).data, status=status.HTTP_201_CREATED)


class HighlightViewSet(ScopedViewSet, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                       mixins.ListModelMixin):
    """Passages of insights linked to epics or stories. Create one with POST /insights/<id>/highlights/."""

    workspace_field = "insight__product__workspace"
    serializer_class = s.HighlightSerializer
    filterset_fields = ["insight", "epic", "story", "idea"]
    action_roles = READ_ROLES | {"destroy": Role.EDITOR}

    def base_queryset(self):
        return Highlight.objects.filter(insight__product__deleted_at__isnull=True).order_by("id")

    def destroy(self, request, *args, **kwargs):
        services.highlight_delete(user=request.user, highlight=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)



IDEA_ORDERINGS = Orderings({"-demand": ("-demand", "-id"), "-vote_count": ("-vote_count", "-id"),
                            "-created_at": ("-created_at", "-id")}, default="-demand")


def _links(product, data: dict) -> dict:
    from backlog.models import Epic, Story
    from roadmaps.models import Initiative

    for name, model in (("epics", Epic), ("stories", Story)):
        if name in data:
            ids = set(data[name])
            found = list(model.objects.filter(product=product, pk__in=ids))
            if len(found) != len(ids):
                from pmhub.utils import ids_text

                missing = ids - {o.pk for o in found}
                raise ValidationError({name: f"Link only work of this product (not {ids_text(missing)})."})
            data[name] = found
    if "initiative" in data:
        data["initiative"] = _in_product(Initiative, product, data["initiative"], "initiative")
    return data


class IdeaViewSet(ScopedViewSet, *CRUD_MIXINS):
    """Ideas (portal submissions and the team's own), ordered by customer demand; `merge/` combines
    a duplicate into another idea."""

    workspace_field = "product__workspace"
    serializer_class = s.IdeaSerializer
    write_serializer_class = s.IdeaWriteSerializer
    pagination_class = CursorPagination
    filter_backends = [ScopedFilterBackend, OrderingFilter]
    orderings = IDEA_ORDERINGS
    filterset_fields = ["product", "status", "published"]
    action_roles = CRUD_ROLES | {"merge": Role.EDITOR}
    plain_object_actions = frozenset({"update", "partial_update", "merge"})  # answered by a fresh read

    def base_queryset(self):
        return Idea.objects.filter(product__deleted_at__isnull=True).prefetch_related("epics", "stories")

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return s.IdeaUpdateSerializer
        if self.action == "merge":
            return s.IdeaMergeSerializer
        return super().get_serializer_class()

    @extend_schema(request=s.IdeaWriteSerializer, responses={201: s.IdeaSerializer, 400: ERROR})
    def create(self, request, *args, **kwargs):
        data = _valid(s.IdeaWriteSerializer, request.data)
        product = _product(request, data.pop("product"))
        idea = services.idea_create(user=request.user, product=product, data=_links(product, data))
        return Response(s.IdeaSerializer(idea).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.IdeaUpdateSerializer, responses={200: s.IdeaSerializer, 400: ERROR, 409: ERROR})
    def update(self, request, *args, **kwargs):
        idea = self.get_object()
        data = _valid(s.IdeaUpdateSerializer, request.data, partial=True)
        if "product" in data and data.pop("product") != idea.product_id:
            raise ValidationError({"product": "An idea cannot move to another product."})
        services.idea_update(user=request.user, idea=idea, data=_links(idea.product, data),
                             version=self.expected_version(idea))
        return Response(s.IdeaSerializer(Idea.objects.prefetch_related("epics", "stories").get(pk=idea.pk)).data)

    @extend_schema(request=s.IdeaUpdateSerializer, responses={200: s.IdeaSerializer, 400: ERROR, 409: ERROR})
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)

    def destroy(self, request, *args, **kwargs):
        services.idea_delete(user=request.user, idea=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.IdeaMergeSerializer, responses={200: s.IdeaSerializer, 400: ERROR},
                   description="Merge this idea into `into`: votes and followers combined, nobody counted twice.")
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        idea = self.get_object()
        data = _valid(s.IdeaMergeSerializer, request.data)
        into = Idea.objects.filter(pk=data["into"], product=idea.product).first()
        if into is None:
            raise ValidationError({"into": "No such idea in this product."})
        into = services.idea_merge(user=request.user, idea=idea, into=into)
        return Response(s.IdeaSerializer(Idea.objects.prefetch_related("epics", "stories").get(pk=into.pk)).data)


class CsvImportViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin):
    """CSV imports of companies or insights (editors): upload (multipart: product, kind, file) ->
    202, the worker reads it -> poll until `ready` (preview) -> `confirm/` -> 202, the worker
    imports the valid rows -> `done`."""

    serializer_class = s.CsvImportSerializer
    workspace_field = "product__workspace"
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    filter_backends = [ScopedFilterBackend]
    filterset_fields = ["product", "kind", "status"]
    action_roles = {"list": Role.EDITOR, "retrieve": Role.EDITOR, "create": Role.EDITOR, "confirm": Role.EDITOR}

    def base_queryset(self):
        return CsvImport.objects.filter(product__deleted_at__isnull=True).defer("raw").order_by("-created_at", "-id")

    @extend_schema(request={"multipart/form-data": s.CsvImportUploadSerializer},
                   responses={202: s.CsvImportSerializer, 400: ERROR},
                   description="Stores the file and answers 202 with the import in `parsing`; poll it until "
                               "`ready` (preview and per-line errors) or `failed` (`error`).")
    def create(self, request, *args, **kwargs):
        data = _valid(s.CsvImportUploadSerializer, request.data)
        product = _product(request, data["product"])
        upload = data["file"]
        job = services.csv_import_upload(user=request.user, product=product, kind=data["kind"], filename=upload.name,
                                         data=upload.read(services.MAX_IMPORT_BYTES + 1))
        return Response(s.CsvImportSerializer(self.get_queryset().get(pk=job.pk)).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: s.CsvImportSerializer, 400: ERROR})
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        job = self.get_object()
        services.csv_import_confirm(user=request.user, csv_import=job)
        return Response(s.CsvImportSerializer(self.get_queryset().get(pk=job.pk)).data, status=status.HTTP_202_ACCEPTED)


class PortalViewSet(ScopedViewSet, mixins.RetrieveModelMixin, mixins.UpdateModelMixin):
    """A product's public ideas portal, by product id: members read its settings; admins open it
    or change it (PUT/PATCH with `version`; the first PUT sets it up, off until `enabled`)."""

    serializer_class = s.PortalSerializer
    write_serializer_class = s.PortalWriteSerializer
    workspace_field = "product__workspace"
    lookup_field = "product_id"
    lookup_url_kwarg = "product"
    lookup_value_regex = "[0-9]+"
    action_roles = {"retrieve": Role.VIEWER, "update": Role.ADMIN, "partial_update": Role.ADMIN}

    def base_queryset(self):
        return Portal.objects.filter(product__deleted_at__isnull=True).defer("logo")

    def _product(self):
        product = _product(self.request, int(self.kwargs["product"]))  # another workspace's: 404
        self.check_object_permissions(self.request, Portal(product=product))
        return product

    def get_object(self):
        product = self._product()
        portal = Portal.objects.filter(product=product).defer("logo").first()
        if portal is None:
            from django.http import Http404

            raise Http404("This product has no portal yet: PUT one.")
        return portal

    @extend_schema(request=s.PortalWriteSerializer, responses={200: s.PortalSerializer, 400: ERROR, 409: ERROR})
    def update(self, request, *args, **kwargs):
        product = self._product()
        data = _valid(s.PortalWriteSerializer, request.data, partial=kwargs.get("partial", False))
        existing = Portal.objects.filter(product=product).only("id", "version").first()
        version = self.expected_version(existing) if existing is not None else None
        portal = services.portal_save(user=request.user, product=product, data=data, version=version)
        return Response(s.PortalSerializer(portal).data)

    @extend_schema(request=s.PortalWriteSerializer, responses={200: s.PortalSerializer, 400: ERROR, 409: ERROR})
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)


class ReleaseNoteFilter(django_filters.FilterSet):
    product = django_filters.NumberFilter(field_name="portal__product")

    class Meta:
        model = ReleaseNote
        fields = ["product"]


class ReleaseNoteViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                         mixins.DestroyModelMixin):
    """Release notes on a product's portal and in its Atom feed: members read them, editors
    publish (the product needs a portal) and remove them."""

    workspace_field = "portal__product__workspace"
    serializer_class = s.ReleaseNoteSerializer
    write_serializer_class = s.ReleaseNoteWriteSerializer
    filterset_class = ReleaseNoteFilter
    action_roles = READ_ROLES | {"create": Role.EDITOR, "destroy": Role.EDITOR}

    def base_queryset(self):
        return ReleaseNote.objects.filter(portal__product__deleted_at__isnull=True).select_related("portal")

    @extend_schema(request=s.ReleaseNoteWriteSerializer, responses={201: s.ReleaseNoteSerializer, 400: ERROR})
    def create(self, request, *args, **kwargs):
        from roadmaps.models import Release

        data = _valid(s.ReleaseNoteWriteSerializer, request.data)
        product = _product(request, data.pop("product"))
        portal = Portal.objects.filter(product=product).first()
        if portal is None:
            raise ValidationError({"product": "This product has no portal yet."})
        release = _in_product(Release, product, data.get("release"), "release")
        note = services.release_note_create(user=request.user, portal=portal, title=data["title"], body=data["body"],
                                            release=release)
        return Response(s.ReleaseNoteSerializer(note).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        services.release_note_delete(user=request.user, note=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class IntakeViewSet(ScopedViewSet, mixins.RetrieveModelMixin, mixins.UpdateModelMixin):
    """A product's intake settings (admins), by product id: the feedback e-mail address, the
    embeddable form's key, whether the form is open and the origins allowed to show it;
    `rotate/` renews the address and the key."""

    serializer_class = s.IntakeSerializer
    workspace_field = "product__workspace"
    lookup_field = "product_id"
    lookup_url_kwarg = "product"
    lookup_value_regex = "[0-9]+"
    action_roles = {"retrieve": Role.ADMIN, "update": Role.ADMIN, "partial_update": Role.ADMIN,
                    "rotate": Role.ADMIN}

    def base_queryset(self):
        return Intake.objects.filter(product__deleted_at__isnull=True)

    def get_object(self):
        product = _product(self.request, int(self.kwargs["product"]))  # another workspace's: 404
        self.check_object_permissions(self.request, Intake(product=product))  # before making one
        return services.intake_of(product)

    @extend_schema(request=s.IntakeUpdateSerializer, responses={200: s.IntakeSerializer, 400: ERROR, 409: ERROR})
    def update(self, request, *args, **kwargs):
        intake = self.get_object()
        data = _valid(s.IntakeUpdateSerializer, request.data, partial=kwargs.get("partial", False))
        if "form_origins" in data:
            data["form_origins"] = "\n".join(data["form_origins"])
        intake = services.intake_update(user=request.user, product=intake.product, data=data,
                                        version=self.expected_version(intake))
        return Response(s.IntakeSerializer(intake).data)

    @extend_schema(request=s.IntakeUpdateSerializer, responses={200: s.IntakeSerializer, 400: ERROR, 409: ERROR})
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(request=None, responses={200: s.IntakeSerializer})
    @action(detail=True, methods=["post"])
    def rotate(self, request, product=None):
        intake = self.get_object()
        return Response(s.IntakeSerializer(services.intake_rotate_keys(user=request.user, product=intake.product)).data)
