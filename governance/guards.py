"""The gates governance adds to lower apps' status changes (registered in GovernanceConfig.ready;
see roadmaps/guards.py and docs/decisions/1504)."""

from django.core.exceptions import ValidationError

from .models import ImpactStatement, ProductGovernance

PLANNED = "planned"


def initiative_needs_approved_statement(*, initiative, old_status, new_status) -> None:
    """A product that requires it: an initiative moves to planned only with an approved business
    impact statement (a new initiative cannot start as planned: write and approve its statement first)."""
    if new_status != PLANNED:
        return
    required = ProductGovernance.objects.filter(product_id=initiative.product_id,
                                                require_impact_statement=True).exists()
    if not required:
        return
    approved = initiative.pk is not None and ImpactStatement.objects.filter(
        initiative_id=initiative.pk, status=ImpactStatement.Status.APPROVED).exists()
    if not approved:
        raise ValidationError({"status": "This product needs an approved business impact statement before an "
                                         "initiative is planned: write it on the initiative's page and have it "
                                         "approved first."})


def release_needs_launch_readiness(*, release, actor, override_reason: str) -> None:
    """A release ships with open required launch items only with a reason, which is recorded."""
    from .selectors import open_required_items
    from .services import ship_override_record

    open_items = open_required_items(release=release)
    if not open_items:
        return
    if not override_reason:
        listed = ", ".join(open_items[:5]) + (f" and {len(open_items) - 5} more" if len(open_items) > 5 else "")
        raise ValidationError({"override_reason": f"{len(open_items)} required launch item"
                                                  f"{'s are' if len(open_items) != 1 else ' is'} open ({listed}). "
                                                  "Give a reason to ship anyway; it is recorded."})
    ship_override_record(release=release, actor=actor, reason=override_reason, open_items=open_items)
