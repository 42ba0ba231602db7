"""A SAML provider's metadata URL fetched by a real Celery worker after the save commits."""

import pytest

from sso import services
from sso.models import IdentityProvider
from tests.sso.saml_idp import IDP_ENTITY_ID, TestIdp
from tests.sso.test_saml_metadata import MetadataServer

from .conftest import WorkerProcess, publishing_to, wait_until

pytestmark = pytest.mark.integration


def test_a_real_worker_fetches_the_metadata_url_after_the_save(services_ready, transactional_db, tmp_path, admin,
                                                               workspace, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    idp = TestIdp(tmp_path)
    server = MetadataServer(idp.metadata_xml().encode())
    worker = WorkerProcess(tmp_path, extra_env={"OUTBOUND_ALLOWED_HOSTS": "127.0.0.1"})
    try:
        with publishing_to(worker):
            worker.start()
            try:
                provider = services.provider_create(user=admin, workspace_id=workspace.pk, data={
                    "name": "Okta", "protocol": "saml", "metadata_url": server.url, "default_role": 10})
                assert provider.metadata_xml == ""  # the request itself fetched nothing
                loaded = wait_until(
                    lambda: IdentityProvider.objects.filter(pk=provider.pk).exclude(metadata_xml="").first(),
                    timeout=60, message=lambda: "the metadata; worker log:\n" + worker.output()[-3000:])
            finally:
                worker.stop()
    finally:
        server.close()
    assert loaded.entity_id == IDP_ENTITY_ID and loaded.metadata_error == "" and server.hits == 1
