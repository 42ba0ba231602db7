"""/scim/v2/: the SCIM 2.0 endpoints (scim.scim_views), outside /api/v1/ as identity providers expect."""

from django.urls import path, re_path

from . import scim_views as v


class _GroupSearch(v.SearchView):
    collection = v.GroupsView


urlpatterns = [
    path("ServiceProviderConfig", v.ServiceProviderConfigView.as_view(), name="scim_spc"),
    path("ResourceTypes", v.ResourceTypesView.as_view(), name="scim_resource_types"),
    path("ResourceTypes/<str:name>", v.ResourceTypesView.as_view(), name="scim_resource_type"),
    path("Schemas", v.SchemasView.as_view(), name="scim_schemas"),
    path("Schemas/<str:schema_id>", v.SchemasView.as_view(), name="scim_schema"),
    path("Users", v.UsersView.as_view(), name="scim_users"),
    path("Users/.search", v.SearchView.as_view(), name="scim_users_search"),
    path("Users/<str:uid>", v.UsersView.as_view(), name="scim_user"),
    path("Groups", v.GroupsView.as_view(), name="scim_groups"),
    path("Groups/.search", _GroupSearch.as_view(), name="scim_groups_search"),
    path("Groups/<str:uid>", v.GroupsView.as_view(), name="scim_group"),
    path(".search", v.RootSearchView.as_view(), name="scim_search"),
    re_path(r"^(?P<rest>.*)$", v.NotFoundView.as_view(), name="scim_not_found"),
]
