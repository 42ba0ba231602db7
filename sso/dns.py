"""DNS TXT lookup for domain verification, kept in one small function so that tests replace it
through the SSO_DNS_TXT_OVERRIDES setting instead of reaching the internet (docs/sso.md)."""

from __future__ import annotations

from django.conf import settings


def txt_records(domain: str) -> list[str]:
    """The TXT strings published at `domain` (each record's strings joined); [] when there are none
    or the lookup fails. SSO_DNS_TXT_OVERRIDES ({domain: [values]}) answers first, for tests and for
    air-gapped installations whose operator verifies by hand."""
    overrides = getattr(settings, "SSO_DNS_TXT_OVERRIDES", None) or {}
    if domain in overrides:
        return list(overrides[domain])
    import dns.exception
    import dns.resolver

    try:
        answer = dns.resolver.resolve(domain, "TXT", lifetime=5.0)
    except (dns.exception.DNSException, OSError):
        return []
    values = []
    for record in answer:
        values.append(b"".join(record.strings).decode("utf-8", "replace"))
    return values
