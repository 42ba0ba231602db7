"""A SAML provider's configuration: metadata pasted (checked at save) or fetched from its URL by the
worker (a real HTTP server on 127.0.0.1 serves it; the outbound policy applies), refreshed nightly,
and the last good copy kept when a fetch fails."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from pmhub.models import Role
from sso import saml_services, services
from sso.models import IdentityProvider
from sso.saml import SamlMetadataInvalid, idp_metadata_read
from sso.saml_tasks import saml_metadata_refresh_all

from .saml_idp import IDP_ENTITY_ID, IDP_SSO_URL, TestIdp

pytestmark = pytest.mark.django_db


class MetadataServer:
    """An IdP's metadata URL: answers GET with the current (status, body)."""

    def __init__(self, body: bytes, status: int = 200):
        self.status, self.body, self.hits = status, body, 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.hits += 1
                self.send_response(server.status)
                self.send_header("Content-Type", "application/samlmetadata+xml")
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/app/exk1/sso/saml/metadata"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def saml_idp(tmp_path):
    return TestIdp(tmp_path)


@pytest.fixture
def metadata_server(saml_idp, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    server = MetadataServer(saml_idp.metadata_xml().encode())
    yield server
    server.close()


def saml_data(**extra):
    return {"name": "Okta", "protocol": "saml", "default_role": Role.VIEWER, **extra}


# --- reading metadata ---------------------------------------------------------------------------

def test_metadata_gives_the_entity_id_the_sso_address_and_the_certificate(saml_idp):
    metadata = idp_metadata_read(saml_idp.metadata_xml())

    assert (metadata.entity_id, metadata.sso_redirect_url) == (IDP_ENTITY_ID, IDP_SSO_URL)
    pem = saml_idp.cert_file.read_text()
    assert metadata.certificates[0] == "".join(pem.splitlines()[1:-1])


@pytest.mark.parametrize("xml, reason", [
    ("", "empty"),
    ("<html><body>Sign in</body></html>", "not SAML 2.0 metadata"),
    ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>', "not SAML 2.0 metadata"),
    ('<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.test">'
     '<SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
     '<AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.test/acs"'
     ' index="0"/></SPSSODescriptor></EntityDescriptor>', "no identity provider"),
])
def test_unusable_metadata_is_refused_with_a_reason(xml, reason):
    with pytest.raises(SamlMetadataInvalid) as refused:
        idp_metadata_read(xml)
    assert reason in refused.value.reason


def test_metadata_without_a_signing_certificate_is_refused(saml_idp):
    xml = saml_idp.metadata_xml()
    start, end = xml.index("<ns0:KeyDescriptor"), xml.index("</ns0:KeyDescriptor>") + len("</ns0:KeyDescriptor>")
    with pytest.raises(SamlMetadataInvalid, match="no signing certificate"):
        idp_metadata_read(xml[:start] + xml[end:])


# --- saving a provider --------------------------------------------------------------------------

def test_pasted_metadata_is_checked_and_gives_the_idp_entity_id(admin, workspace, saml_idp):
    provider = services.provider_create(user=admin, workspace_id=workspace.pk,
                                        data=saml_data(metadata_xml=saml_idp.metadata_xml()))

    provider.refresh_from_db()
    assert provider.protocol == "saml" and provider.entity_id == IDP_ENTITY_ID
    assert provider.metadata_xml.startswith("<ns0:EntityDescriptor")


def test_broken_metadata_is_refused_at_save(admin, workspace):
    with pytest.raises(ValidationError) as refused:
        services.provider_create(user=admin, workspace_id=workspace.pk,
                                 data=saml_data(metadata_xml="<not-metadata/>"))
    assert "metadata_xml" in refused.value.message_dict
    assert not IdentityProvider.objects.exists()


def test_a_saml_provider_needs_a_metadata_url_or_xml(admin, workspace):
    with pytest.raises(ValidationError) as refused:
        services.provider_create(user=admin, workspace_id=workspace.pk, data=saml_data())
    assert "metadata_url" in refused.value.message_dict


def test_a_metadata_url_on_the_private_network_is_refused(admin, workspace, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = []
    with pytest.raises(ValidationError) as refused:
        services.provider_create(user=admin, workspace_id=workspace.pk,
                                 data=saml_data(metadata_url="http://169.254.169.254/latest/meta-data"))
    assert "metadata_url" in refused.value.message_dict


def test_metadata_url_is_fetched_by_the_worker_after_the_save(admin, workspace, metadata_server,
                                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        provider = services.provider_create(user=admin, workspace_id=workspace.pk,
                                            data=saml_data(metadata_url=metadata_server.url))

    provider.refresh_from_db()
    assert metadata_server.hits == 1
    assert provider.entity_id == IDP_ENTITY_ID and "IDPSSODescriptor" in provider.metadata_xml
    assert provider.metadata_fetched_at is not None and provider.metadata_error == ""


def test_a_failed_fetch_keeps_the_last_good_metadata_and_says_why(admin, workspace, metadata_server,
                                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        provider = services.provider_create(user=admin, workspace_id=workspace.pk,
                                            data=saml_data(metadata_url=metadata_server.url))
    good = IdentityProvider.objects.get(pk=provider.pk).metadata_xml

    metadata_server.status = 404
    assert saml_services.saml_metadata_refresh(provider_id=provider.pk) == "the metadata URL answered HTTP 404"
    metadata_server.status, metadata_server.body = 200, b"<html>maintenance</html>"
    assert "not SAML 2.0 metadata" in saml_services.saml_metadata_refresh(provider_id=provider.pk)

    provider.refresh_from_db()
    assert provider.metadata_xml == good
    assert "not SAML 2.0 metadata" in provider.metadata_error


def test_nightly_refresh_picks_up_a_new_signing_certificate(admin, workspace, metadata_server, tmp_path,
                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        provider = services.provider_create(user=admin, workspace_id=workspace.pk,
                                            data=saml_data(metadata_url=metadata_server.url))
    renewed = TestIdp(tmp_path, name="renewed")  # the IdP rotated its key
    metadata_server.body = renewed.metadata_xml().encode()

    assert saml_metadata_refresh_all.delay().get() == 1

    provider.refresh_from_db()
    assert idp_metadata_read(provider.metadata_xml).certificates == idp_metadata_read(
        renewed.metadata_xml()).certificates


def test_our_metadata_is_served_for_a_provider_whose_idp_metadata_is_not_loaded_yet(client, workspace):
    provider = IdentityProvider.objects.create(workspace=workspace, name="Entra", protocol="saml",
                                               metadata_url="https://login.microsoftonline.com/x/federationmetadata")
    response = client.get(reverse("sso:saml_metadata", args=[provider.pk]))
    assert response.status_code == 200 and b"AssertionConsumerService" in response.content
