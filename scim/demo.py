"""Demo data of the scim app: a provisioned group mapped to the editor role, with no members yet
(no identity provider is connected in the demo, so no token either). Idempotent."""

from pmhub.models import Role

from .models import ScimGroup


def seed(*, workspace, users) -> None:
    ScimGroup.objects.get_or_create(workspace=workspace, display_name="Product leads",
                                    defaults={"role": Role.EDITOR, "external_id": "demo-product-leads"})
