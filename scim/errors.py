"""A SCIM error (RFC 7644 §3.12): the status, a sentence for the person reading the identity
provider's log, and the scimType where the RFC defines one."""


class ScimError(Exception):
    def __init__(self, status: int, detail: str, scim_type: str | None = None):
        super().__init__(detail)
        self.status, self.detail, self.scim_type = status, detail, scim_type


def bad_request(detail: str, scim_type: str = "invalidValue") -> ScimError:
    return ScimError(400, detail, scim_type)


def conflict(detail: str) -> ScimError:
    return ScimError(409, detail, "uniqueness")


def not_found(kind: str = "resource") -> ScimError:
    return ScimError(404, f"No such {kind} in this workspace.")
