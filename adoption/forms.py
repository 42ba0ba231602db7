from django import forms
from django.core.validators import RegexValidator

from pmhub import formfields as bounded

from .ingestion import FEATURE_RE
from .models import Feature


class FeatureForm(forms.Form):
    key = forms.CharField(max_length=100, validators=[RegexValidator(FEATURE_RE, "Letters, digits and _.:/- only.")],
                          help_text="The <code>feature</code> value your product sends in events.")
    name = forms.CharField(max_length=120, required=False)
    target_percent = bounded.DecimalField(label="Target adoption (%)", max_digits=5, decimal_places=2, required=False,
                                        min_value=0, max_value=100)
    kpi = forms.ModelChoiceField(label="KPI", queryset=None, required=False,
                                 help_text="The rollup writes the 7-day adoption % into this KPI.")

    def __init__(self, *args, product, **kwargs):
        super().__init__(*args, **kwargs)
        from metrics.models import Kpi

        self.fields["kpi"].queryset = Kpi.objects.filter(product=product).order_by("name")


class FeatureEditForm(FeatureForm):
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    field_order = ["name", "description", "target_percent", "kpi"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["key"]

    @classmethod
    def initial_for(cls, feature: Feature) -> dict:
        return {"name": feature.name, "description": feature.description, "target_percent": feature.target_percent,
                "kpi": feature.kpi_id}


class IngestionKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Name it after the system that sends events.")
