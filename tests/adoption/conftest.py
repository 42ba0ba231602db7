import pytest
from rest_framework.test import APIClient

from .factories import ProductFactory, make_ingestion_key


@pytest.fixture
def product(workspace):
    return ProductFactory(workspace=workspace, name="Acme Analytics")


@pytest.fixture
def other_product(other_workspace):
    return ProductFactory(workspace=other_workspace, name="Globex App")


@pytest.fixture
def ingest():
    """ingest(raw_key, events, **extra) -> response of POST /api/v1/events/bulk/."""

    def send(raw, events, header="bearer", **body):
        client = APIClient()
        if header == "bearer":
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        else:
            client.credentials(HTTP_X_PMHUB_INGESTION_KEY=raw)
        return client.post("/api/v1/events/bulk/", {"events": events, **body}, format="json")

    return send


@pytest.fixture
def key(product):
    return make_ingestion_key(product)
