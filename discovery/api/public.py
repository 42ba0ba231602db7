"""Public endpoints of discovery, apart from the workspace API: the embeddable feedback form posts
here from the web sites a product's admin lists. No session, no user: the product's public form
key names the inbox; CORS answers only the listed origins; a per-address rate limit and a
honeypot field keep bots out. Nothing is ever read back."""

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from pmhub.api.throttling import AddressRateThrottle

from .. import services
from ..intake import BatchInvalid
from ..models import Intake


class PublicRateThrottle(AddressRateThrottle):
    scope = "discovery_public"

    def get_rate(self):
        return settings.DISCOVERY_PUBLIC_RATE


class FeedbackFormSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=48, help_text="The product's public form key (pmhf_…).")
    text = serializers.CharField(max_length=20_000)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=190, required=False, allow_blank=True)
    name = serializers.CharField(max_length=160, required=False, allow_blank=True)
    website = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                    help_text="Honeypot: leave empty (people never see it).")


def _cors(response, origin: str | None):
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin"
    return response


def _allowed_origin(request, intake: Intake | None) -> str | None:
    origin = (request.headers.get("Origin") or "").rstrip("/").lower()
    if intake is None or not intake.form_enabled or not origin or origin not in intake.origins:
        return None
    return origin


class FeedbackFormView(APIView):
    """POST /api/public/v1/feedback/: one insight from the embeddable form (202, nothing returned)."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes = [PublicRateThrottle]

    def options(self, request, *args, **kwargs):
        # A preflight names no key: answer the origin if any open form of this server lists it.
        origin = (request.headers.get("Origin") or "").rstrip("/").lower()
        listed = bool(origin) and any(origin in intake.origins for intake in Intake.objects.filter(
            form_enabled=True, form_origins__icontains=origin).only("form_origins")[:50])
        return _cors(Response(status=status.HTTP_204_NO_CONTENT), origin if listed else None)

    @extend_schema(request=FeedbackFormSerializer,
                   responses={202: OpenApiResponse(description="Received."),
                              400: OpenApiResponse(description="Field errors."),
                              403: OpenApiResponse(description="Unknown key, closed form or origin not listed."),
                              429: OpenApiResponse(description="Too many posts from this address.")},
                   auth=[])
    def post(self, request):
        s = FeedbackFormSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        data = s.validated_data
        intake = Intake.objects.select_related("product").filter(form_key=data["key"],
                                                                 product__deleted_at__isnull=True).first()
        origin = _allowed_origin(request, intake)
        if origin is None:
            raise PermissionDenied("This form is closed, or this site may not post to it.")
        if not data.get("website"):  # a bot filled the hidden field: answer alike, store nothing
            try:
                services.form_insight_submit(intake=intake, text=data["text"], email=data.get("email", ""),
                                             name=data.get("name", ""), title=data.get("title", ""))
            except BatchInvalid as exc:
                raise ValidationError(exc.errors.get("0", {})) from None
        return _cors(Response({"detail": "Thank you: your feedback was received."}, status=status.HTTP_202_ACCEPTED),
                     origin)
