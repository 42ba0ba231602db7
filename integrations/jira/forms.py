from django import forms

from . import provider
from .models import FIELD_LABELS, SYNC_FIELDS, JiraConnection, JiraProjectLink

_SECRET = {"autocomplete": "off"}


class JiraConnectionForm(forms.Form):
    kind = forms.ChoiceField(choices=JiraConnection.Kind.choices, label="Provider",
                             help_text="GitHub issues: address https://api.github.com, a fine-grained token.")
    name = forms.CharField(max_length=120, help_text="How people recognise it, for example Acme Jira.")
    base_url = forms.CharField(max_length=300, label="Site address",
                               help_text="Cloud: https://your-site.atlassian.net; Data Center: your server's address.")
    email = forms.EmailField(max_length=254, required=False, label="Account e-mail",
                             help_text="Jira Cloud only: the e-mail of the account the API token belongs to.")
    token = forms.CharField(max_length=2000, required=False, label="API token or personal access token",
                            widget=forms.PasswordInput(render_value=False, attrs=_SECRET),
                            help_text="Stored encrypted and never shown again.")

    def __init__(self, *args, editing=False, kind=None, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["kind"]
            self.fields["token"].label = "New token (optional)"
            self.fields["token"].help_text = "Leave empty to keep the current one; paste a new one when it expired."
        if kind and provider.is_github(kind):  # editing a GitHub connection: no Jira words, no e-mail
            del self.fields["email"]
            self.fields["name"].help_text = "How people recognise it, for example Acme web issues."
            self.fields["base_url"].label = "API address"
            self.fields["base_url"].help_text = "https://api.github.com, or your GitHub Enterprise API address."
            self.fields["token"].help_text = ("A fine-grained token with Issues read and write on the repository. "
                                              + self.fields["token"].help_text)


class JiraLinkForm(forms.Form):
    product = forms.TypedChoiceField(coerce=int)
    project_key = forms.CharField(max_length=140, label="Jira project key", help_text="For example ENG.")
    story_issue_type = forms.CharField(max_length=60, initial="Story", label="Issue type for stories",
                                       help_text="Story, Task or Bug: what PMHub's stories become in Jira.")
    epic_issue_type = forms.CharField(max_length=60, initial="Epic", label="Issue type of epics")

    def __init__(self, *args, products=(), kind="cloud", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [(p.id, p.name) for p in products]
        terms = provider.terms(kind)
        self.fields["project_key"].label = terms["project_key_label"]
        self.fields["project_key"].help_text = terms["project_key_help"]
        if terms["github"]:  # GitHub issues have no issue types
            del self.fields["story_issue_type"], self.fields["epic_issue_type"]


class JiraLinkSettingsForm(forms.Form):
    """Per field a direction and a conflict rule; per status an override; issue types; deletion."""

    story_issue_type = forms.CharField(max_length=60, label="Issue type for stories")
    epic_issue_type = forms.CharField(max_length=60, label="Issue type of epics")
    on_delete = forms.ChoiceField(choices=JiraProjectLink.OnDelete.choices, label="When one side deletes")

    def __init__(self, *args, link=None, workflow=(), **kwargs):
        super().__init__(*args, **kwargs)
        kind = link.connection.kind if link else "cloud"
        self.link = link
        self.synced = provider.synced_fields(kind)
        if provider.is_github(kind):  # GitHub issues have no issue types; people are matched by a map
            del self.fields["story_issue_type"], self.fields["epic_issue_type"]
            self.fields["user_map"] = forms.CharField(
                max_length=60000, required=False, label="Who is who on GitHub",
                widget=forms.Textarea(attrs={"rows": 4, "placeholder": "pat@acme.com = pat-pm"}),
                help_text="One person a line: their PMHub e-mail = their GitHub login. Someone not listed is "
                          "reported in the log, never guessed.")
            if link and not self.is_bound:
                self.initial["user_map"] = "\n".join(f"{e} = {x}" for e, x in sorted((link.user_map or {}).items()))
        for field in self.synced:
            self.fields[f"direction_{field}"] = forms.ChoiceField(
                choices=provider.direction_choices(kind), label=f"{FIELD_LABELS[field]}: direction")
            self.fields[f"rule_{field}"] = forms.ChoiceField(
                choices=provider.rule_choices(kind), label=f"{FIELD_LABELS[field]}: when both sides changed")
        local = [(s["key"], s["label"]) for s in workflow]
        name = provider.provider_label(kind)
        for remote in (link.remote_statuses if link else []) or []:
            self.fields[f"in_{remote['id']}"] = forms.ChoiceField(
                choices=local, required=False, label=f"{name} “{remote['name']}” becomes")
        remote_choices = [(r["id"], r["name"]) for r in (link.remote_statuses if link else []) or []]
        if remote_choices:
            for key, label in local:
                self.fields[f"out_{key}"] = forms.ChoiceField(
                    choices=remote_choices, required=False, label=f"PMHub “{label}” becomes")

    def clean_user_map(self) -> dict:
        """"pat@acme.com = pat-pm" lines as a map; the service checks e-mails and logins."""
        logins = {}
        for number, line in enumerate(self.cleaned_data.get("user_map", "").splitlines(), 1):
            if not line.strip():
                continue
            email, sep, login = line.partition("=")
            if not sep or not email.strip() or not login.strip():
                raise forms.ValidationError(f"Line {number}: write it as e-mail = login.")
            logins[email.strip()] = login.strip()
        if len(logins) > 1000:
            raise forms.ValidationError("At most 1,000 people.")
        return logins

    def service_data(self) -> dict:
        data = self.cleaned_data
        kept = (self.link.field_rules if self.link else None) or {}  # fields this provider cannot sync
        rules = {f: kept[f] for f in SYNC_FIELDS if f not in self.synced and f in kept}
        rules.update({f: {"direction": data[f"direction_{f}"], "rule": data[f"rule_{f}"]} for f in self.synced})
        types = {k: data[k] for k in ("story_issue_type", "epic_issue_type") if k in data}
        if "user_map" in data:
            types["user_map"] = data["user_map"]
        return {
            **types,
            "on_delete": data["on_delete"],
            "field_rules": rules,
            "status_in": {k[3:]: v for k, v in data.items() if k.startswith("in_") and v},
            "status_out": {k[4:]: v for k, v in data.items() if k.startswith("out_") and v},
        }


class JiraImportForm(forms.Form):
    jql = forms.CharField(max_length=1000, required=False, label="Which issues (JQL)",
                          widget=forms.TextInput(attrs={"placeholder": "issuetype in (Story, Task)"}),
                          help_text="Added to “project = KEY”. Leave empty for every issue of the project.")

    def __init__(self, *args, kind="cloud", **kwargs):
        super().__init__(*args, **kwargs)
        if provider.is_github(kind):  # GitHub reads every issue of the repository: no JQL
            del self.fields["jql"]
