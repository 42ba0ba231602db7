"""A URL conf with one more API route than the product's: its schema digest must differ."""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from pmhub.urls import urlpatterns as product_patterns


class PingView(APIView):
    def get(self, request):
        return Response({"pong": True})


urlpatterns = [path("api/v1/ping-for-schema-test/", PingView.as_view()), *product_patterns]
