"""Forms of the metrics pages: validation of shape only; rules live in services."""

from django import forms
from django.utils.choices import BaseChoiceIterator

from pmhub import formfields as bounded
from pmhub.models import User, display_name_of
from pmhub.prepared import Prepared

from .models import ActionPlan, Kpi


class DateInput(forms.DateInput):
    input_type = "date"


class RowChoices(BaseChoiceIterator):
    """A model choice field's choices as (id, label) rows, read once and only when the form is
    rendered (a valid POST never reads them). Django's ModelChoiceIterator counts the rows
    (`|length` in _field.html), checks that any exist, reads them through a server-side cursor and
    builds a model instance per choice: the KPI form offers every initiative, epic and member of
    the product (900 at bench scale, half of the KPI page: issue 23, target 3; decision 1955).
    `rows` returns a list of (id, label) pairs whose labels are text: the models' own __str__
    (title, display name), in the queryset's order; validation still runs against the field's
    queryset."""

    # Iterating again gives the same rows without reading them again: the select and check-box
    # printers may key their per-process cache by the rows (pmhub.templatetags.pmhub, decision 2340).
    keeps_rows = True

    def __init__(self, field, rows):
        self._empty = [("", field.empty_label)] if getattr(field, "empty_label", None) is not None else []
        self._rows, self._list = rows, None

    def _all(self) -> list:
        if self._list is None:
            # The rows are (id, text) pairs already (titles as read, display names made from their
            # name and address): no pass over them to make each label text again (decision 2341).
            self._list = self._empty + self._rows()
        return self._list

    def __iter__(self):
        return iter(self._all())

    def __len__(self):
        return len(self._all())


def _members(workspace_id):
    return User.objects.filter(memberships__workspace_id=workspace_id).order_by("name", "email", "id")


def _choices(name: str):
    model = Kpi._meta.get_field(name).related_model
    return Prepared(model, lambda product_id: model.objects.filter(product_id=product_id).values_list("id", "title"))


# The KPI form's lists (owner, initiatives, epics) as rows, compiled once per process (decision 2141).
_MEMBERS = Prepared(User, lambda workspace_id: _members(workspace_id).values_list("id", "name", "email"))
_CHOICES = {name: _choices(name) for name in ("initiatives", "epics")}


class KpiForm(forms.ModelForm):
    version = bounded.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Kpi
        formfield_callback = staticmethod(bounded.formfield)
        fields = ["name", "description", "unit", "direction", "aggregation", "cadence", "owner", "target_value",
                  "target_date", "baseline_value", "baseline_date", "warning_threshold", "critical_threshold",
                  "initiatives", "epics"]
        widgets = {"target_date": DateInput, "baseline_date": DateInput,
                   "description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, product, **kwargs):
        kwargs.setdefault("instance", Kpi(product=product))
        super().__init__(*args, **kwargs)
        if self.is_bound:
            # What a submitted form validates against: the workspace's members and the product's
            # initiatives and epics. An unbound form only prints the rows below, so a page's GET
            # builds none of these querysets (decision 2342); its fields keep the class's None.
            # Members in the order people look them up (by name, then address), the same on every read.
            self.fields["owner"].queryset = _members(product.workspace_id)
            # Choices print the title only: a product has hundreds of initiatives and epics, each row
            # with its description (issue 23, target 3).
            self.fields["initiatives"].queryset = product.initiatives.only("id", "title", "product_id")
            self.fields["epics"].queryset = product.epics.only("id", "title", "product_id")
        owner = self.fields["owner"]
        # User.display_name's rule (display_name_of) on (name, email) rows: 200 members, no model
        # instance, nor a stand-in object each (decision 2341). The rows of the three lists are the
        # querysets' above, compiled once (decision 2141); titles are read as text.
        workspace_id, product_id = product.workspace_id, product.id
        owner.choices = RowChoices(owner, lambda: [(pk, display_name_of(name, email))
                                                   for pk, name, email in _MEMBERS.rows(workspace_id)])
        for name in ("initiatives", "epics"):
            self.fields[name].choices = RowChoices(self.fields[name], lambda name=name: _CHOICES[name].rows(product_id))


# No default queryset on the class's fields (every user, initiative and epic of every workspace,
# cloned for each form): a bound form sets the product's own, an unbound one reads nothing through
# them, and a stray use of an unbound form's queryset fails instead of offering other workspaces'
# rows (decision 2342).
for _name in ("owner", "initiatives", "epics"):
    KpiForm.base_fields[_name].queryset = None
KpiForm.base_fields["initiatives"].required = KpiForm.base_fields["epics"].required = False


class MeasurementForm(forms.Form):
    period = bounded.DateField(widget=DateInput, help_text="Any day of the period (cut to the KPI's cadence).")
    value = bounded.DecimalField(max_digits=18, decimal_places=4)


class UploadForm(forms.Form):
    file = forms.FileField(help_text="CSV with a header line: period (or timestamp) and value.")


class ActionPlanForm(forms.ModelForm):
    class Meta:
        model = ActionPlan
        formfield_callback = staticmethod(bounded.formfield)
        fields = ["title", "owner", "steps", "due_date", "status"]
        widgets = {"due_date": DateInput, "steps": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, workspace, **kwargs):
        kwargs.setdefault("instance", ActionPlan())
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(
            memberships__workspace_id=workspace.id).order_by("name", "email", "id")
