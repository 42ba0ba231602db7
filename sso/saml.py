"""SAML 2.0 service provider: the protocol work, with pysaml2 and xmlsec1 doing the XML and the
cryptography. See docs/decisions/1810-saml-with-pysaml2.md and docs/sso.md ("SAML 2.0").

No model and no request in sight: the caller describes one identity provider as a `SamlSp` (our
entity id and ACS URL for that provider, the IdP's metadata XML, the attribute names), and gets
back either a `SamlAssertion` or a `SamlRefused` whose `code` goes to the log and whose `message`
is shown to the person. Each provider gets its own pysaml2 configuration built at runtime, so an
owner adds or changes a provider in the settings pages with no redeploy.

What is checked on a response (`authn_response_read`), each a refusal of its own:
- a signature on the Response or on the Assertion, made with a key from the IdP's metadata (an
  unsigned response, or one signed with another key, is refused; xmlsec1 verifies), and not with
  SHA-1 or MD5 (`weak_signature`);
- the issuer is the IdP of the metadata (`wrong_issuer`);
- the Audience is our entity id for this provider (`wrong_audience`); an assertion without an
  AudienceRestriction is refused too (the Web Browser SSO profile requires one);
- NotBefore / NotOnOrAfter of the conditions and of the bearer confirmation, with
  `CLOCK_SKEW_SECONDS` of tolerance (`not_yet_valid`, `expired`); pysaml2 reads Python's clock;
- `InResponseTo` names a request this browser started (`unsolicited`): IdP-initiated sign-in is
  refused, it cannot be bound to a browser;
- the destination / recipient is our ACS URL.
The replay check (one use per assertion id) needs shared state and lives in `sso/saml_flow.py`.
"""

from __future__ import annotations

import base64
import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from saml2.config import SPConfig

# pysaml2 is imported inside the functions that use it, not here: `saml2.sigver` loads its XML
# schema on import (0.4-0.6 s idle, 2 s under load), which every PMHub process would otherwise pay
# at start (the sso app's ready() reaches this module through sso.services), SAML in use or not.
# Decision 2070. The constants below are the SAML 2.0 ones pysaml2 defines under the same names
# (tests/sso/test_saml.py checks they agree).
BINDING_HTTP_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
BINDING_HTTP_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
NAMEID_FORMAT_EMAILADDRESS = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
NAMEID_FORMAT_PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
NAMEID_FORMAT_TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"

logger = logging.getLogger("pmhub.sso")

CLOCK_SKEW_SECONDS = 120  # tolerated difference between the IdP's clock and ours
MAX_METADATA_BYTES = 1024 * 1024  # an IdP's metadata is a few kB; aggregates are not supported
XMLSEC_FALLBACK = "/usr/bin/xmlsec1"  # Debian's, for a PATH without /usr/bin (some process managers)

# Attribute names tried in order when the provider does not name its own (Name or FriendlyName,
# compared exactly). They cover Okta, Microsoft Entra ID, Google Workspace, Keycloak and the
# common LDAP/eduPerson OIDs; docs/sso.md lists which IdP sends which.
DEFAULT_EMAIL_ATTRIBUTES = (
    "email", "mail", "emailAddress", "Email",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "urn:oid:0.9.2342.19200300.100.1.3",
)
DEFAULT_NAME_ATTRIBUTES = (
    "name", "displayName", "fullName",
    "http://schemas.microsoft.com/identity/claims/displayname",
    "urn:oid:2.16.840.1.113730.3.1.241",
)
DEFAULT_GIVEN_NAME_ATTRIBUTES = (
    "firstName", "givenName", "given_name", "first_name",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", "urn:oid:2.5.4.42",
)
DEFAULT_FAMILY_NAME_ATTRIBUTES = (
    "lastName", "surname", "sn", "family_name", "last_name",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", "urn:oid:2.5.4.4",
)
DEFAULT_GROUPS_ATTRIBUTES = (
    "groups", "memberOf", "Groups", "Role",
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
    "urn:oid:1.3.6.1.4.1.5923.1.5.1.1",
)
MAX_GROUPS = 500  # a person in more groups than this gets the first 500 (the mapping reads names only)


class SamlRefused(Exception):
    """A response (or a configuration) we refuse. `code` is short and stable (logs, tests);
    `message` is a sentence a person can read, naming no internal detail."""

    def __init__(self, code: str, message: str, detail: str = ""):
        super().__init__(f"{code}: {detail or message}")
        self.code = code
        self.message = message
        self.detail = detail  # for the log line only


class SamlMetadataInvalid(Exception):
    """IdP metadata we cannot use. `reason` is short and safe to show to the owner who gave it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SamlSp:
    """Our side of one identity provider: PMHub as the service provider that this IdP knows."""

    entity_id: str
    acs_url: str
    idp_metadata_xml: str
    email_attributes: tuple[str, ...] = DEFAULT_EMAIL_ATTRIBUTES
    name_attributes: tuple[str, ...] = DEFAULT_NAME_ATTRIBUTES
    groups_attributes: tuple[str, ...] = DEFAULT_GROUPS_ATTRIBUTES


@dataclass(frozen=True)
class IdpMetadata:
    entity_id: str
    sso_redirect_url: str
    certificates: tuple[str, ...]  # base64 DER, as in the metadata


@dataclass(frozen=True)
class SamlAssertion:
    """What a checked response says about the person."""

    issuer: str
    subject: str  # the NameID (or the e-mail when the NameID is transient)
    name_id_format: str
    email: str
    name: str
    groups: tuple[str, ...]
    assertion_id: str
    in_response_to: str
    expires_at: datetime  # the earliest NotOnOrAfter: how long the id must be remembered
    attributes: dict = field(default_factory=dict, repr=False)


def xmlsec_binary() -> str:
    """Debian's xmlsec1 (apt-get install xmlsec1): pysaml2 calls it to sign and verify."""
    found = shutil.which("xmlsec1") or shutil.which(XMLSEC_FALLBACK)
    if not found:
        raise SamlRefused("no_xmlsec", "Single sign-on with SAML is not available on this server.",
                          "xmlsec1 is not installed")
    return found


# --- metadata -----------------------------------------------------------------------------------

def idp_metadata_read(xml: str) -> IdpMetadata:
    """Read and check an IdP's metadata: exactly one identity provider, with a single sign-on
    endpoint for the HTTP-Redirect binding and at least one signing certificate. Raises
    SamlMetadataInvalid(reason). Parsing goes through pysaml2 (defusedxml: no entities, no DTD)."""
    if not (xml or "").strip():
        raise SamlMetadataInvalid("the metadata is empty")
    if len(xml.encode()) > MAX_METADATA_BYTES:
        raise SamlMetadataInvalid("the metadata is larger than 1 MB")
    from saml2.attribute_converter import ac_factory
    from saml2.mdstore import InMemoryMetaData

    store = InMemoryMetaData(ac_factory(), xml)
    try:
        store.load()
    except Exception as exc:  # pysaml2 raises bare Exceptions, XML and schema errors alike
        logger.info("sso.saml metadata unreadable: %s", exc.__class__.__name__)
        raise SamlMetadataInvalid("the metadata is not SAML 2.0 metadata XML") from None
    if not list(store.items()):
        raise SamlMetadataInvalid("the metadata is not SAML 2.0 metadata XML (or its validUntil date has passed)")
    idps = [eid for eid, ent in store.items() if "idpsso_descriptor" in ent]
    if not idps:
        raise SamlMetadataInvalid("the metadata describes no identity provider")
    if len(idps) > 1:
        raise SamlMetadataInvalid("the metadata describes several identity providers; give one")
    entity_id = idps[0]
    redirect = [svc["location"] for desc in store[entity_id]["idpsso_descriptor"]
                for svc in desc.get("single_sign_on_service", []) if svc.get("binding") == BINDING_HTTP_REDIRECT]
    if not redirect:
        raise SamlMetadataInvalid("the identity provider has no single sign-on address for the HTTP-Redirect binding")
    certificates = tuple(dict.fromkeys(
        "".join(cert.split()) for _, cert in store.certs(entity_id, "idpsso", "signing")))
    if not certificates:
        raise SamlMetadataInvalid("the metadata has no signing certificate")
    return IdpMetadata(entity_id=entity_id, sso_redirect_url=redirect[0], certificates=certificates)


# --- our configuration and metadata -------------------------------------------------------------

def _config(sp: SamlSp) -> SPConfig:
    """A pysaml2 SP configuration for this one provider, built for each use (a few ms)."""
    from saml2.config import SPConfig

    conf = SPConfig()
    conf.load({
        "entityid": sp.entity_id,
        "xmlsec_binary": xmlsec_binary(),
        "metadata": {"inline": [sp.idp_metadata_xml]} if sp.idp_metadata_xml else {},
        "service": {"sp": {
            "endpoints": {"assertion_consumer_service": [(sp.acs_url, BINDING_HTTP_POST)]},
            "allow_unsolicited": False,
            "authn_requests_signed": False,  # we hold no key; IdPs accept unsigned requests by default
            "logout_requests_signed": False,
            "want_assertions_signed": False,
            "want_response_signed": False,
            "want_assertions_or_response_signed": True,  # one of the two, with the metadata's key
            "only_use_keys_in_metadata": True,
            "name_id_format_allow_create": True,
        }},
        "accepted_time_diff": CLOCK_SKEW_SECONDS,
        "allow_unknown_attributes": True,
        "delete_tmpfiles": True,
        "tmp_path": tempfile.gettempdir(),
    })
    return conf


def sp_metadata_xml(sp: SamlSp) -> str:
    """Our SP metadata for this provider (entity id, ACS, what we want signed), to paste or point
    the IdP at. Unsigned: we hold no key, and IdPs take it from an HTTPS URL or by upload."""
    from saml2 import md
    from saml2.metadata import entity_descriptor

    conf = _config(SamlSp(entity_id=sp.entity_id, acs_url=sp.acs_url, idp_metadata_xml=""))
    descriptor = entity_descriptor(conf)
    descriptor.spsso_descriptor.want_assertions_signed = "true"
    descriptor.extensions = None  # pysaml2 lists every algorithm it knows, MD5 included: say nothing
    descriptor.spsso_descriptor.name_id_format = [
        md.NameIDFormat(text=NAMEID_FORMAT_PERSISTENT), md.NameIDFormat(text=NAMEID_FORMAT_EMAILADDRESS)]
    return str(descriptor)


# --- sign-in ------------------------------------------------------------------------------------

def authn_request_redirect(sp: SamlSp, *, relay_state: str) -> tuple[str, str]:
    """An AuthnRequest for the HTTP-Redirect binding: (request id, the IdP URL to send the browser
    to). The caller remembers the id for this browser; the response must name it."""
    from saml2.client import Saml2Client

    client = Saml2Client(config=_config(sp))
    metadata = idp_metadata_read(sp.idp_metadata_xml)
    request_id, info = client.prepare_for_authenticate(
        entityid=metadata.entity_id, relay_state=relay_state, binding=BINDING_HTTP_REDIRECT)
    location = dict(info["headers"])["Location"]
    return request_id, location


_REFUSALS = {
    "unsigned": "The identity provider's answer was not signed, so PMHub cannot trust it. Ask your administrator"
                " to have the identity provider sign its SAML responses or assertions.",
    "bad_signature": "The identity provider's answer carries a signature PMHub cannot verify with the"
                     " certificate in the provider's metadata. If the certificate was renewed, the metadata"
                     " in PMHub must be updated.",
    "weak_signature": "The identity provider signed its answer with SHA-1, which PMHub no longer accepts. Ask your"
                      " administrator to choose SHA-256 for the signature at the identity provider.",
    "encrypted": "The identity provider encrypted its answer, which PMHub does not support. Ask your administrator"
                 " to turn assertion encryption off for PMHub at the identity provider (the answer stays signed).",
    "wrong_issuer": "The answer came from another identity provider than the one configured.",
    "wrong_audience": "The answer was meant for another application, not this PMHub provider. Check the"
                      " entity id (audience) configured at the identity provider.",
    "expired": "The sign-in answer has expired. Please sign in again.",
    "not_yet_valid": "The sign-in answer is not valid yet: the identity provider's clock and PMHub's differ."
                     " Please try again in a minute.",
    "unsolicited": "This sign-in answer does not match a sign-in started in this browser (or it took too long)."
                   " Please start again from PMHub's sign-in page.",
    "wrong_destination": "The answer was sent to another address than this PMHub provider's.",
    "idp_error": "The identity provider did not sign you in.",
    "malformed": "The sign-in answer could not be read.",
    "no_email": "The identity provider did not send your e-mail address. Ask your administrator to release"
                " the e-mail attribute to PMHub.",
    "replayed": "This sign-in answer was already used. Please sign in again.",
}


def refusal(code: str, detail: str = "") -> SamlRefused:
    return SamlRefused(code, _REFUSALS[code], detail)


def authn_response_read(sp: SamlSp, saml_response: str, *, outstanding: dict[str, str]) -> SamlAssertion:
    """Check a base64 SAMLResponse posted to our ACS and read the person from it.

    `outstanding` maps the ids of the requests this browser started (and not yet expired) to any
    value; the response must answer one of them. Raises SamlRefused with a code of `_REFUSALS`."""
    if not saml_response or len(saml_response) > 2 * MAX_METADATA_BYTES:
        raise refusal("malformed", "empty or oversized SAMLResponse")
    try:
        xml = base64.b64decode(saml_response.encode("ascii"), validate=False)
    except (ValueError, UnicodeError):
        raise refusal("malformed", "not base64") from None
    _refuse_weak_algorithms(xml)
    from saml2.client import Saml2Client
    from saml2.response import IncorrectlySigned, StatusError, UnsolicitedResponse, VerificationError
    from saml2.sigver import MissingKey, SignatureError, SigverError
    from saml2.validate import NotValid, ResponseLifetimeExceed, ToEarly

    metadata = idp_metadata_read(sp.idp_metadata_xml)
    client = Saml2Client(config=_config(sp))
    try:
        response = client.parse_authn_request_response(
            saml_response, BINDING_HTTP_POST, outstanding=outstanding)
    except UnsolicitedResponse as exc:
        raise refusal("unsolicited", str(exc)[:200]) from None
    except ResponseLifetimeExceed as exc:
        raise refusal("expired", str(exc)[:200]) from None
    except ToEarly as exc:
        raise refusal("not_yet_valid", str(exc)[:200]) from None
    except StatusError as exc:
        raise refusal("idp_error", str(exc).splitlines()[-1][:200]) from None
    except MissingKey as exc:  # no key for the issuer it names: not the IdP of the metadata
        raise refusal("wrong_issuer", f"no key for issuer {str(exc)[:160]}") from None
    except (IncorrectlySigned, SignatureError, SigverError) as exc:
        raise _signature_refusal(xml, exc) from None
    except VerificationError as exc:
        raise refusal("wrong_destination" if "recipient" in str(exc).lower() else "malformed", str(exc)[:200]) from None
    except NotValid as exc:
        raise refusal("malformed", f"schema: {exc}"[:200]) from None
    except Exception as exc:  # pysaml2 raises bare Exceptions for several conditions
        text = str(exc)
        if "AudienceRestrictions" in text:
            raise refusal("wrong_audience", text[:200]) from None
        if "not well-formed" in text or "syntax error" in text.lower():
            raise refusal("malformed", "XML not well-formed") from None
        raise refusal("malformed", f"{exc.__class__.__name__}: {text[:160]}") from None
    if response is None:  # pysaml2's "not for us" (destination, version, issue instant)
        raise refusal("wrong_destination", "response refused by pysaml2 (destination or issue instant)")
    return _assertion_read(sp, metadata, response)


_DSIG = "{http://www.w3.org/2000/09/xmldsig#}"
# SHA-1 and MD5 XML signatures: collisions make them forgeable in principle, and every IdP we document
# signs with SHA-256 by default (Okta and Entra ID offer SHA-1 only as a legacy choice).
WEAK_ALGORITHMS = {
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1", "http://www.w3.org/2000/09/xmldsig#dsa-sha1",
    "http://www.w3.org/2000/09/xmldsig#hmac-sha1", "http://www.w3.org/2000/09/xmldsig#sha1",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-md5", "http://www.w3.org/2001/04/xmldsig-more#md5",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1",
}


def _refuse_weak_algorithms(xml: bytes) -> None:
    """Refuse an answer whose signatures use SHA-1 or MD5, or whose assertion is encrypted (we hold no
    key to decrypt it). Read before any verification: the answer is refused either way, so nothing
    is trusted from it."""
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    try:
        root = ElementTree.fromstring(xml)
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        raise refusal("malformed", "XML not well-formed or with entities") from None
    if any(True for _ in root.iter("{urn:oasis:names:tc:SAML:2.0:assertion}EncryptedAssertion")):
        raise refusal("encrypted", "EncryptedAssertion")
    for tag in ("SignatureMethod", "DigestMethod"):
        for element in root.iter(_DSIG + tag):
            if element.get("Algorithm") in WEAK_ALGORITHMS:
                raise refusal("weak_signature", f"{tag} {element.get('Algorithm')}")


def _signature_refusal(xml: bytes, exc: Exception) -> SamlRefused:
    """Unsigned and wrongly signed answers get different pages: one is a configuration to change
    at the IdP, the other a certificate to update here (or a forgery)."""
    text = xml.decode("utf-8", "replace")
    has_signature = "SignatureValue" in text
    return refusal("bad_signature" if has_signature else "unsigned", f"{exc.__class__.__name__}: {str(exc)[:160]}")


def _assertion_read(sp: SamlSp, metadata: IdpMetadata, response) -> SamlAssertion:
    assertion = response.assertion
    if assertion is None:
        # pysaml2 hands back a response it did not verify (its checks of Destination and IssueInstant
        # return None, which its caller ignores): no verified assertion, no sign-in.
        destination = getattr(response.response, "destination", None)
        if destination and destination != sp.acs_url:
            raise refusal("wrong_destination", f"destination {destination[:160]}")
        raise refusal("malformed", "no verified assertion")
    issuers = {(response.response.issuer.text or "").strip() if response.response.issuer is not None else "",
               (assertion.issuer.text or "").strip() if assertion.issuer is not None else ""} - {""}
    if issuers != {metadata.entity_id}:
        raise refusal("wrong_issuer", f"issuer {sorted(issuers)} is not {metadata.entity_id}")
    # Every AudienceRestriction must name us (SAML core 2.5.1.4: each one must be satisfied), and there
    # must be one: pysaml2 lets an assertion without any by, and is content with one of several.
    restrictions = [{(a.text or "").strip() for a in r.audience}
                    for r in (assertion.conditions.audience_restriction if assertion.conditions else [])]
    if not restrictions or any(sp.entity_id not in audiences for audiences in restrictions):
        raise refusal("wrong_audience", f"audiences {[sorted(a) for a in restrictions]}")
    expires_at = _expires_at(assertion)
    if expires_at is None:
        raise refusal("malformed", "no NotOnOrAfter on the assertion")

    attributes = _attributes(assertion)
    name_id = response.name_id
    name_id_value = (name_id.text or "").strip() if name_id is not None else ""
    name_id_format = (name_id.format or "") if name_id is not None else ""
    email = _first(attributes, sp.email_attributes)
    if not email and name_id_format == NAMEID_FORMAT_EMAILADDRESS:
        email = name_id_value
    email = email.strip().lower()
    if "@" not in email:
        raise refusal("no_email", f"attributes present: {sorted(attributes)[:20]}")
    name = _first(attributes, sp.name_attributes)
    if not name:
        name = " ".join(p for p in (_first(attributes, DEFAULT_GIVEN_NAME_ATTRIBUTES),
                                    _first(attributes, DEFAULT_FAMILY_NAME_ATTRIBUTES)) if p)
    groups = []
    for attribute in sp.groups_attributes:
        groups.extend(attributes.get(attribute, ()))
    groups = tuple(dict.fromkeys(g.strip() for g in groups if g and g.strip()))[:MAX_GROUPS]
    # A transient NameID changes at every sign-in: the account then follows the e-mail address.
    subject = email if (not name_id_value or name_id_format == NAMEID_FORMAT_TRANSIENT) else name_id_value
    return SamlAssertion(
        issuer=metadata.entity_id, subject=subject[:255], name_id_format=name_id_format, email=email[:254],
        name=name.strip()[:150], groups=groups, assertion_id=assertion.id,
        in_response_to=_confirmed_request_id(assertion) or response.in_response_to,
        expires_at=expires_at, attributes=attributes)


def _confirmed_request_id(assertion) -> str:
    """The InResponseTo of the bearer confirmation: inside the signed assertion, unlike the Response's
    own attribute when only the assertion is signed (pysaml2 has checked it is outstanding)."""
    for confirmation in assertion.subject.subject_confirmation if assertion.subject else []:
        data = confirmation.subject_confirmation_data
        if data is not None and data.in_response_to:
            return data.in_response_to
    return ""


def _expires_at(assertion) -> datetime | None:
    from saml2.time_util import str_to_time

    values = []
    if assertion.conditions is not None and assertion.conditions.not_on_or_after:
        values.append(assertion.conditions.not_on_or_after)
    for confirmation in assertion.subject.subject_confirmation if assertion.subject else []:
        data = confirmation.subject_confirmation_data
        if data is not None and data.not_on_or_after:
            values.append(data.not_on_or_after)
    if not values:
        return None
    import calendar

    return min(datetime.fromtimestamp(calendar.timegm(str_to_time(v)), tz=UTC) for v in values)


def _attributes(assertion) -> dict[str, list[str]]:
    """Attribute values by Name and by FriendlyName, as text."""
    found: dict[str, list[str]] = {}
    for statement in assertion.attribute_statement:
        for attribute in statement.attribute:
            values = [str(v.text).strip() for v in attribute.attribute_value if v.text is not None]
            for key in {attribute.name, attribute.friendly_name} - {None, ""}:
                found.setdefault(key, []).extend(values)
    return found


def _first(attributes: dict[str, list[str]], names: tuple[str, ...]) -> str:
    for name in names:
        for value in attributes.get(name, ()):
            if value:
                return value
    return ""
