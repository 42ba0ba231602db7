"""Tenancy-matrix entries of the governance app. Format: see tests/security/README.md.

Payloads of the refused page writes are valid forms, so a missing role check would really write
and the snapshot would see it."""

import itertools

from django.forms.models import model_to_dict

from governance.models import (
    ChecklistTemplate,
    ChecklistTemplateItem,
    ImpactDecision,
    ImpactRevision,
    ImpactStatement,
    IssueNote,
    LaunchItem,
    PortfolioEntry,
    ProductGovernance,
    Risk,
    ShipOverride,
    StageChange,
    StageProposal,
)
from tests.governance.factories import RiskFactory
from tests.roadmaps.factories import InitiativeFactory, ProductFactory, ReleaseFactory

from .matrix import Exempt, Route

_IDOR_404 = ("single-method product page: the product and the risk are resolved before the method, so the IDOR "
             "case answers 404 for the method not offered (matrix expects 405); isolation and roles are asserted "
             "in tests/governance/test_pages.py (outsider 404, viewer 403, rows unchanged)")


def _row(obj):
    row = type(obj)._base_manager.filter(pk=obj.pk).first()
    return None if row is None else model_to_dict(row)


def _product(ws):
    return ProductFactory(workspace=ws)


def _risk(ws):
    return RiskFactory(product=_product(ws), title="Vendor sunset", likelihood=4, impact=4)


def _appetite(ws):
    return ProductGovernance.objects.create(product=_product(ws), risk_appetite=12)


def _statement(ws):
    """A statement awaiting approval (approvers: admins), so approve/reject would really write."""
    product = _product(ws)
    statement = ImpactStatement.objects.create(product=product, initiative=InitiativeFactory(product=product),
                                               status=ImpactStatement.Status.AWAITING)
    ImpactRevision.objects.create(statement=statement, number=1, benefit="Fewer tickets")
    return statement


def _cr_statement(ws):
    """A change request's statement awaiting approval (approvers: admins)."""
    from delivery.models import ChangeRequest
    from tests.delivery.factories import StoryFactory
    from tests.roadmaps.factories import ReleaseFactory

    product = _product(ws)
    change = ChangeRequest.objects.create(release=ReleaseFactory(product=product), story=StoryFactory(product=product),
                                          kind="add", reason="r")
    statement = ImpactStatement.objects.create(product=product, change_request=change,
                                               status=ImpactStatement.Status.AWAITING)
    ImpactRevision.objects.create(statement=statement, number=1, benefit="Fewer tickets")
    return statement


def _statement_rows(statement):
    return (_row(statement), sorted(ImpactRevision.objects.filter(statement_id=statement.id).values_list("number")),
            sorted(ImpactDecision.objects.filter(statement_id=statement.id).values_list("id", "decision")))


def _launch_item(ws):
    return LaunchItem.objects.create(release=ReleaseFactory(product=_product(ws)), title="Privacy review",
                                     required=True)


_names = itertools.count(1)


def _template(ws):
    template = ChecklistTemplate.objects.create(workspace=ws, name=f"Matrix launch {next(_names)}")
    ChecklistTemplateItem.objects.create(template=template, title="Privacy review", category="legal")
    return template


def _override(ws):
    return ShipOverride.objects.create(release=ReleaseFactory(product=_product(ws)), reason="Deadline",
                                       open_items=["Privacy review"])


def _release(ws):
    return ReleaseFactory(product=_product(ws))


def _items_of(release):
    return (_row(release), sorted(LaunchItem.objects.filter(release_id=release.id).values_list(
        "id", "title", "done_at", "version")))


def _template_rows(template):
    return (_row(template), sorted(template.items.values_list("id", "title")),
            sorted(LaunchItem.objects.filter(release__product__workspace_id=template.workspace_id)
                   .values_list("id", "title")))


def _entry(ws):
    return PortfolioEntry.objects.create(initiative=InitiativeFactory(product=_product(ws)), value=5, cost=2)


def _proposal(ws):
    product = _product(ws)
    ProductGovernance.objects.create(product=product, stage="maturity")
    return StageProposal.objects.create(product=product, to_stage="decline", evidence={"KPI x": {"values": [3, 2],
                                                                                               "declining": True}})


def _stage_change(ws):
    return StageChange.objects.create(product=_product(ws), from_stage="growth", to_stage="maturity")


def _lifecycle_rows(product):
    return (_row(product), list(ProductGovernance.objects.filter(product_id=product.id).values_list("stage")),
            sorted(StageChange.objects.filter(product_id=product.id).values_list("id")))


def _risk_form(risk=None):
    data = {"kind": "risk", "title": "Pwned", "likelihood": "5", "impact": "5", "status": "open", "trend": "steady"}
    if risk is not None:
        data["version"] = risk.version
    return data


def _risk_and_notes(risk):
    return (_row(risk), sorted(IssueNote.objects.filter(risk_id=risk.id).values_list("id", "text")))


def _risks_of(product):
    return (_row(product), sorted(Risk.objects.filter(product_id=product.id).values_list("id", "title", "version")))


def _kw(risk):
    return {"product_id": risk.product_id, "risk_id": risk.id}


API = {
    "risk": Route(build=_risk, payload=lambda r: {"title": "Pwned", "impact": 1, "version": r.version, "text": "x"},
                  snapshot=_risk_and_notes),
    "risk-appetite": Route(build=_appetite, payload=lambda a: {"risk_appetite": 25, "version": a.version}),
    "launch-item": Route(build=_launch_item, payload=lambda i: {"title": "Pwned", "done": True, "version": i.version},
                         snapshot=lambda i: _items_of(i.release)),
    "launch-template": Route(build=_template, snapshot=_template_rows,
                             payload=lambda t: {"release": _release(t.workspace).id, "name": "Pwned"}),
    "ship-override": Route(build=_override, payload=lambda o: {"reason": "Pwned"}),
    "portfolio-entry": Route(build=_entry, payload=lambda e: {"value": 1, "decision": "stop", "reason": "Pwned",
                                                              "version": e.version}),
    "stage-proposal": Route(build=_proposal, snapshot=lambda pr: (_row(pr), _lifecycle_rows(pr.product))),
    "stage-change": Route(build=_stage_change, payload=lambda c: {"to_stage": "retired"}),
    "product-lifecycle": Route(build=_product, snapshot=_lifecycle_rows,
                               payload=lambda p: {"stage": "retired", "reason": "Pwned", "version": 1}),
    "portfolio-ranking": Exempt(
        "a ranking computed for the workspace named in ?workspace= (list only, no object route); another "
        "workspace's id is a 400 like a missing one (tests/governance/test_portfolio.py)"),
    "impact-statement": Route(build=_statement, snapshot=_statement_rows, payload=lambda s: {
        "benefit": "Pwned", "version": s.version, "decision": "approved", "comment": "ok"}),
}

PAGES = {
    "governance:risks": Exempt(_IDOR_404),
    "governance:risk_new": Route(build=_product, payload=lambda p: _risk_form(), snapshot=_risks_of),
    "governance:appetite": Exempt(_IDOR_404),
    "governance:risk": Exempt(_IDOR_404),
    "governance:risk_edit": Route(build=_risk, kwargs=_kw, payload=_risk_form, snapshot=_risk_and_notes),
    "governance:risk_note": Exempt(_IDOR_404),
    "governance:risk_delete": Exempt(_IDOR_404),
    "governance:launch": Route(build=_release, kwargs=lambda r: {"product_id": r.product_id, "release_id": r.id},
                               snapshot=_items_of, payload=lambda r: {"category": "legal", "title": "Pwned",
                                                                      "required": "on"}),
    "governance:launch_item": Exempt(_IDOR_404),
    "governance:template_delete": Exempt(
        "POST-only workspace page: the template is looked up in the URL's workspace (404 outside it) and only "
        "admins may delete (tests/governance/test_launch.py, tests/governance/test_pages.py)"),
    "governance:lifecycle": Route(build=_product, snapshot=_lifecycle_rows,
                                  payload=lambda p: {"action": "stage", "stage": "retired", "reason": "Pwned"}),
    "governance:portfolio_entry": Route(
        build=_entry, kwargs=lambda e: {"initiative_id": e.initiative_id},
        payload=lambda e: {"action": "inputs", "value": "1", "time_criticality": "1", "risk_reduction": "1",
                           "cost": "9", "version": e.version}),
    "governance:statement": Route(build=_statement, kwargs=lambda s: {"product_id": s.product_id,
                                                                      "initiative_id": s.initiative_id},
                                  snapshot=_statement_rows,
                                  payload=lambda s: {"action": "approved", "comment": "ok", "version": s.version}),
    "governance:cr_statement": Route(build=_cr_statement, kwargs=lambda s: {
        "product_id": s.product_id, "release_id": s.change_request.release_id, "cr_id": s.change_request_id},
        snapshot=_statement_rows, payload=lambda s: {"action": "approved", "comment": "ok", "version": s.version}),
}

API_BASE_EXCEPTIONS: dict[str, str] = {}
