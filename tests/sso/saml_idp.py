"""A real SAML 2.0 identity provider for the tests, built with pysaml2 and signing through xmlsec1.

Its RSA key and self-signed certificate are generated when the test runs (`cryptography`), never
stored. `TestIdp.answer(request_url, ...)` reads the AuthnRequest that PMHub sent the browser to
(HTTP-Redirect binding) and returns the base64 SAMLResponse the browser would post back, signed
like Okta or Entra ID sign theirs (the assertion; `sign_response=True` signs the Response too).
The knobs let a test forge what an attacker or a misconfigured IdP would send: no signature,
another key, another audience, another InResponseTo, an answer made at another time (freeze the
clock around `answer`).
"""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NameID
from saml2.server import Server

IDP_ENTITY_ID = "https://idp.example.test/saml/metadata"
IDP_SSO_URL = "https://idp.example.test/saml/sso"


def key_pair(directory: Path, name: str) -> tuple[Path, Path]:
    """A fresh RSA-2048 key and a self-signed certificate valid for a year around now."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"PMHub test IdP {name}")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=365)).not_valid_after(now + dt.timedelta(days=365))
            .sign(key, hashes.SHA256()))
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.crt"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


class TestIdp:
    __test__ = False  # not a test class for pytest

    def __init__(self, directory: Path, *, name: str = "idp", entity_id: str = IDP_ENTITY_ID,
                 sp_metadata_xml: str | None = None, lifetime_minutes: int = 5, sso_url: str = IDP_SSO_URL,
                 sha1: bool = False):
        self.sha1 = sha1  # sign like a legacy IdP (RSA-SHA1, SHA-1 digests)
        self.directory = Path(directory)
        self.sso_url = sso_url
        self.entity_id = entity_id
        self.key_file, self.cert_file = key_pair(self.directory, name)
        self.lifetime_minutes = lifetime_minutes
        self._sp_metadata = sp_metadata_xml
        self._server = None

    def _config(self) -> IdPConfig:
        conf = IdPConfig()
        conf.load({
            "entityid": self.entity_id,
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "key_file": str(self.key_file),
            "cert_file": str(self.cert_file),
            "metadata": {"inline": [self._sp_metadata]} if self._sp_metadata else {},
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [(self.sso_url, BINDING_HTTP_REDIRECT),
                                                         (self.sso_url + "/post", BINDING_HTTP_POST)]},
                "policy": {"default": {"lifetime": {"minutes": self.lifetime_minutes},
                                       "attribute_restrictions": None,
                                       "name_form": "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"}},
                "name_id_format": [saml.NAMEID_FORMAT_PERSISTENT, saml.NAMEID_FORMAT_EMAILADDRESS],
            }},
            "allow_unknown_attributes": True,
            "delete_tmpfiles": True,
            "signing_algorithm": ("http://www.w3.org/2000/09/xmldsig#rsa-sha1" if self.sha1
                                  else "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"),
            "digest_algorithm": ("http://www.w3.org/2000/09/xmldsig#sha1" if self.sha1
                                 else "http://www.w3.org/2001/04/xmlenc#sha256"),
        })
        return conf

    def metadata_xml(self) -> str:
        return create_metadata_string(None, config=self._config(), valid=365 * 24, sign=False).decode()

    def trust(self, sp_metadata_xml: str) -> None:
        """Load the SP's metadata (the IdP answers only SPs it knows, like a real one)."""
        self._sp_metadata = sp_metadata_xml
        self._server = None

    @property
    def server(self) -> Server:
        if self._server is None:
            self._server = Server(config=self._config())
        return self._server

    def read_request(self, request_url: str):
        """The AuthnRequest carried by the redirect PMHub answered with."""
        query = parse_qs(urlsplit(request_url).query)
        assert urlsplit(request_url)._replace(query="").geturl() == self.sso_url
        return self.server.parse_authn_request(query["SAMLRequest"][0], BINDING_HTTP_REDIRECT), \
            query.get("RelayState", [""])[0]

    def answer(self, request_url: str, *, email: str = "ada@acme.test", name: str = "Ada Lovelace",
               groups=("pmhub-editors",), subject: str = "okta|00u1ada", sign_assertion: bool = True,
               sign_response: bool = False, audience: str | None = None, in_response_to: str | None = None,
               attributes: dict | None = None, destination: str | None = None,
               encrypt_for_cert: str | None = None) -> tuple[str, str]:
        """(base64 SAMLResponse, RelayState) answering the request in `request_url`."""
        request, relay_state = self.read_request(request_url)
        message = request.message
        identity = attributes if attributes is not None else {
            "email": [email], "displayName": [name], "groups": list(groups)}
        response = self.server.create_authn_response(
            identity=identity,
            in_response_to=message.id if in_response_to is None else in_response_to,
            destination=destination or message.assertion_consumer_service_url,
            sp_entity_id=audience or message.issuer.text,
            name_id=NameID(format=saml.NAMEID_FORMAT_PERSISTENT, text=subject),
            authn={"class_ref": saml.AUTHN_PASSWORD_PROTECTED, "authn_auth": self.entity_id},
            sign_assertion=sign_assertion, sign_response=sign_response,
            sign_alg=self._config().signing_algorithm, digest_alg=self._config().digest_algorithm,
            **({"encrypt_assertion": True, "encrypt_cert_assertion": encrypt_for_cert} if encrypt_for_cert else {}),
        )
        return base64.b64encode(str(response).encode()).decode(), relay_state

    def answer_edited(self, request_url: str, edit, **kwargs) -> tuple[str, str]:
        """An answer whose unsigned XML `edit(xml) -> xml` changes before the IdP signs the Response
        with its real key: what a compromised or misconfigured IdP could send, validly signed."""
        from saml2 import samlp
        from saml2.sigver import pre_signature_part, signed_instance_factory

        unsigned, relay_state = self.answer(request_url, sign_assertion=False, sign_response=False, **kwargs)
        response = samlp.response_from_string(edit(base64.b64decode(unsigned).decode()))
        config = self._config()
        response.signature = pre_signature_part(response.id, self.server.sec.my_cert, 1,
                                                digest_alg=config.digest_algorithm, sign_alg=config.signing_algorithm)
        signed = signed_instance_factory(response, self.server.sec, [(samlp.Response.c_tag, response.id)])
        return base64.b64encode(str(signed).encode()).decode(), relay_state


class IdpWebServer:
    """The IdP as a browser sees it, on its own site (http://127.0.0.1:<port>, while live_server is on
    localhost): GET /saml/sso?SAMLRequest=... answers a sign-in page whose button posts the signed
    SAMLResponse to the ACS named in the request (the HTTP-POST binding, cross-site like a real IdP).
    `person` is who "signs in" at the IdP."""

    def __init__(self, directory: Path):
        import threading
        from html import escape
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        web = self
        self.person = {"email": "ada@acme.test", "name": "Ada Lovelace", "groups": ("pmhub-editors",)}
        self.requests = 0

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if not self.path.startswith("/saml/sso?"):
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                web.requests += 1
                request_url = web.base_url + self.path
                response, relay_state = web.idp.answer(request_url, **web.person)
                acs = web.idp.read_request(request_url)[0].message.assertion_consumer_service_url
                body = (f'<!doctype html><html><head><title>Test IdP</title></head><body><h1>Test IdP</h1>'
                        f'<form method="post" action="{escape(acs)}">'
                        f'<input type="hidden" name="SAMLResponse" value="{escape(response)}">'
                        f'<input type="hidden" name="RelayState" value="{escape(relay_state)}">'
                        f'<button type="submit">Sign in as {escape(web.person["email"])}</button></form>'
                        f'</body></html>').encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.idp = TestIdp(directory, sso_url=self.base_url + "/saml/sso")
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
