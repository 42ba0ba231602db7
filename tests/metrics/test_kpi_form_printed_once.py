"""The KPI form's owner options and initiative / epic boxes printed once per process, keyed by their
rows (decision 2340): the page is byte for byte what the printers give without the cache, for
hostile names; a bad POST keeps what was typed; a new, renamed or removed member or title shows at
the next page; no other workspace's rows are offered; the query count stays fixed."""

import re

import pytest
from django.urls import reverse

from backlog.models import Epic
from metrics.forms import KpiForm
from pmhub.templatetags import pmhub as tags
from roadmaps.models import Initiative
from tests.factories import MembershipFactory, UserFactory

from .factories import KpiFactory

pytestmark = pytest.mark.django_db

HOSTILE = "<b>&\"'</b> Zoë 🚀 “x”"


@pytest.fixture
def page(workspace, other_workspace, product, foreign_product, editor):
    for n in range(4):
        MembershipFactory(workspace=workspace, user=UserFactory(name=f"{HOSTILE} {n}" if n else "",
                                                                email=f"m{n}+<x>@acme.test"))
    MembershipFactory(workspace=other_workspace, user=UserFactory(name="Foreign member", email="f@globex.test"))
    mine = Initiative.objects.bulk_create(Initiative(product=product, title=f"{HOSTILE} I{n}") for n in range(5))
    epics = Epic.objects.bulk_create(Epic(product=product, title=f"{HOSTILE} E{n}") for n in range(3))
    Initiative.objects.create(product=foreign_product, title="Foreign initiative")
    Epic.objects.create(product=foreign_product, title="Foreign epic")
    kpi = KpiFactory(product=product, owner=editor, name=HOSTILE)
    kpi.initiatives.set(mine[:2])
    kpi.epics.set(epics[1:2])
    return kpi


def _url(kpi):
    return reverse("metrics_kpi_detail", kwargs={"ws": kpi.product.workspace.slug, "product_id": kpi.product_id,
                                                 "kpi_id": kpi.id})


def _uncached(monkeypatch):
    """The printers as before decision 2340: no rows are keyed, every list printed again."""
    monkeypatch.setattr(tags, "_rows_key", lambda choices: None)


_TICK = re.compile(r'name="(?:initiatives|epics)" value="\d+" checked>')


def _ticks(html: str) -> int:
    return len(_TICK.findall(html))


_TOKEN = re.compile(r"\b[A-Za-z0-9]{64}\b")  # the CSRF token, masked anew on every page


def _page(response) -> str:
    return _TOKEN.sub("", response.content.decode())


def test_the_page_is_byte_identical_with_and_without_the_cache(client_as, editor, page, monkeypatch):
    c = client_as(editor)
    c.get(_url(page))
    cached = [_page(c.get(_url(page))) for _ in range(2)]  # printed, then from the cache
    with monkeypatch.context() as m:
        _uncached(m)
        before = _page(c.get(_url(page)))
    assert cached[0] == cached[1] == before
    assert "&lt;b&gt;&amp;&quot;&#x27;&lt;/b&gt; Zoë 🚀 “x” I0" in before and "<b>&" not in before.split("<main", 1)[-1]
    assert _ticks(before) == 3 and before.count(f'<option value="{editor.id}" selected>') == 1


def test_the_forms_print_the_same_with_and_without_the_cache(page, product, editor, monkeypatch):
    initial = {"owner": editor.id, "initiatives": [i.id for i in page.initiatives.all()], "epics": []}
    bad = {"name": "", "owner": str(editor.id), "initiatives": [str(i.id) for i in page.initiatives.all()][:1],
           "epics": [str(e.id) for e in page.epics.all()], "version": "1"}
    forms = lambda: (KpiForm(product=product, initial=initial), KpiForm(bad, product=product),  # noqa: E731
                     KpiForm(product=product))
    cached = [str(tags.form_html(f)) for f in forms()]
    again = [str(tags.form_html(f)) for f in forms()]
    with monkeypatch.context() as m:
        _uncached(m)
        before = [str(tags.form_html(f)) for f in forms()]
    assert cached == again == before
    assert cached[0].count(" checked>") == 2 and cached[1].count(" checked>") == 2 and " checked>" not in cached[2]


def test_safe_and_lazy_labels_are_not_keyed():
    from django.utils.functional import lazy
    from django.utils.safestring import mark_safe

    assert tags._rows_key([(1, "a"), ("", "b")]) == ((1, "a"), ("", "b"))
    assert tags._rows_key([(1, mark_safe("<b>"))]) is None  # equal to "<b>" yet printed unescaped
    assert tags._rows_key([(1, lazy(str, str)("a"))]) is None
    assert tags._rows_key([(True, "a")]) is None and tags._rows_key([(None, "a")]) is None
    assert tags._rows_key([("g", [(1, "a")])]) is None and tags._rows_key(iter([(1, "a")])) is None


def test_a_bad_post_keeps_what_was_typed(client_as, editor, page):
    ids = [i.id for i in Initiative.objects.filter(product=page.product).order_by("id")]
    data = {"name": "", "description": "typed <text>", "owner": str(editor.id), "initiatives": [str(ids[4])],
            "epics": [], "version": str(page.version), "unit": page.unit, "direction": page.direction,
            "aggregation": page.aggregation, "cadence": page.cadence}
    response = client_as(editor).post(_url(page), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert f'name="initiatives" value="{ids[4]}" checked>' in html and _ticks(html) == 1
    assert "typed &lt;text&gt;" in html


def test_a_new_renamed_or_removed_row_shows_at_the_next_page(client_as, editor, page, workspace):
    c = client_as(editor)
    c.get(_url(page))
    user = UserFactory(name="Newcomer <n>")
    membership = MembershipFactory(workspace=workspace, user=user)
    Initiative.objects.filter(product=page.product, title__endswith="I4").update(title="Renamed & co")
    html = c.get(_url(page)).content.decode()
    assert "Newcomer &lt;n&gt;</option>" in html and "Renamed &amp; co</label>" in html and " I4</label>" not in html
    membership.delete()
    assert "Newcomer" not in c.get(_url(page)).content.decode()


def test_no_other_workspace_s_rows_are_offered(client_as, editor, outsider, page, foreign_product):
    c = client_as(editor)
    for _ in range(2):
        html = c.get(_url(page)).content.decode()
        assert "Foreign" not in html and "globex" not in html
    foreign = KpiFactory(product=foreign_product, owner=outsider)
    html = client_as(outsider).get(_url(foreign)).content.decode()
    assert "Foreign initiative" in html and "Foreign epic" in html and "Foreign member" in html
    assert "Zoë" not in html and "acme.test" not in html
    assert client_as(outsider).get(_url(page)).status_code == 404


@pytest.mark.parametrize("n", [3, 80])
def test_the_page_s_query_count_is_fixed(client_as, editor, workspace, product, n, django_assert_max_num_queries):
    kpi = KpiFactory(product=product, owner=editor)
    for i in range(n):
        MembershipFactory(workspace=workspace, user=UserFactory(name=f"{HOSTILE} {i}"))
    kpi.initiatives.set(Initiative.objects.bulk_create(Initiative(product=product, title=f"I{i}") for i in range(n)))
    Epic.objects.bulk_create(Epic(product=product, title=f"E{i}") for i in range(n))
    c = client_as(editor)
    c.get(_url(kpi))
    for _ in range(2):  # printed, then kept
        with django_assert_max_num_queries(15):
            response = c.get(_url(kpi))
        assert response.status_code == 200 and _ticks(response.content.decode()) == n


def test_a_post_of_another_workspace_s_rows_is_refused(client_as, editor, outsider, page, foreign_product):
    """A submitted form validates against the workspace's members and the product's initiatives and
    epics (its querysets, set only when bound: decision 2342); an unbound form has none to leak."""
    foreign_initiative = Initiative.objects.get(product=foreign_product)
    foreign_epic = Epic.objects.get(product=foreign_product)
    base = {"name": "Renamed", "description": "", "unit": page.unit, "direction": page.direction,
            "aggregation": page.aggregation, "cadence": page.cadence, "version": str(page.version)}
    c = client_as(editor)
    for extra in ({"owner": str(outsider.id)}, {"initiatives": [str(foreign_initiative.id)]},
                  {"epics": [str(foreign_epic.id)]}):
        response = c.post(_url(page), base | extra)
        assert response.status_code == 400, extra
        assert "Foreign" not in response.content.decode()
    page.refresh_from_db()
    assert page.name == HOSTILE and page.owner_id == editor.id
    assert KpiForm(product=page.product).fields["owner"].queryset is None
    assert c.post(_url(page), base | {"owner": str(editor.id)}).status_code == 302
    page.refresh_from_db()
    assert page.name == "Renamed"
