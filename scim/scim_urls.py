"""/scim/v2/: the SCIM 2.0 endpoints (scim.scim_views), outside /api/v1/ as identity providers expect.
A trailing slash is accepted too (some providers add one)."""

from django.urls import re_path

from . import scim_views as v


class _GroupSearch(v.SearchView):
    collection = v.GroupsView


_ID = r"(?P<uid>[^/]+)"

urlpatterns = [
    re_path(r"^ServiceProviderConfig/?$", v.ServiceProviderConfigView.as_view(), name="scim_spc"),
    re_path(r"^ResourceTypes/?$", v.ResourceTypesView.as_view(), name="scim_resource_types"),
    re_path(r"^ResourceTypes/(?P<name>[^/]+)/?$", v.ResourceTypesView.as_view(), name="scim_resource_type"),
    re_path(r"^Schemas/?$", v.SchemasView.as_view(), name="scim_schemas"),
    re_path(r"^Schemas/(?P<schema_id>[^/]+)/?$", v.SchemasView.as_view(), name="scim_schema"),
    re_path(r"^Users/?$", v.UsersView.as_view(), name="scim_users"),
    re_path(r"^Users/\.search/?$", v.SearchView.as_view(), name="scim_users_search"),
    re_path(rf"^Users/{_ID}/?$", v.UsersView.as_view(), name="scim_user"),
    re_path(r"^Groups/?$", v.GroupsView.as_view(), name="scim_groups"),
    re_path(r"^Groups/\.search/?$", _GroupSearch.as_view(), name="scim_groups_search"),
    re_path(rf"^Groups/{_ID}/?$", v.GroupsView.as_view(), name="scim_group"),
    re_path(r"^\.search/?$", v.RootSearchView.as_view(), name="scim_search"),
    re_path(r"^(?P<rest>.*)$", v.NotFoundView.as_view(), name="scim_not_found"),
]
