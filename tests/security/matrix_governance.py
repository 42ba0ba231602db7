"""Tenancy-matrix entries of the governance app. Format: see tests/security/README.md.

Payloads of the refused page writes are valid forms, so a missing role check would really write
and the snapshot would see it."""

from django.forms.models import model_to_dict

from governance.models import ImpactDecision, ImpactRevision, ImpactStatement, IssueNote, ProductGovernance, Risk
from tests.governance.factories import RiskFactory
from tests.roadmaps.factories import InitiativeFactory, ProductFactory

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


def _statement_rows(statement):
    return (_row(statement), sorted(ImpactRevision.objects.filter(statement_id=statement.id).values_list("number")),
            sorted(ImpactDecision.objects.filter(statement_id=statement.id).values_list("id", "decision")))


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
    "governance:statement": Route(build=_statement, kwargs=lambda s: {"product_id": s.product_id,
                                                                      "initiative_id": s.initiative_id},
                                  snapshot=_statement_rows,
                                  payload=lambda s: {"action": "approved", "comment": "ok", "version": s.version}),
}

API_BASE_EXCEPTIONS: dict[str, str] = {}
