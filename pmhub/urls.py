from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerSplitView

from pmhub.api.resolver import include_by_segment
from pmhub.api.schema_view import CachedSpectacularAPIView

from . import views
from .admin import admin_login

workspace_patterns = [
    path("", views.WorkspaceHomeView.as_view(), name="workspace_home"),
    path("settings/", views.WorkspaceSettingsView.as_view(), name="workspace_settings"),
    path("members/", views.MembersView.as_view(), name="members"),
    path("members/<int:membership_id>/role/", views.MemberRoleView.as_view(), name="member_role"),
    path("members/<int:membership_id>/remove/", views.MemberRemoveView.as_view(), name="member_remove"),
    path("invitations/<int:invitation_id>/revoke/", views.InvitationRevokeView.as_view(), name="invitation_revoke"),
    path("activity/", views.ActivityView.as_view(), name="activity"),
    path("live/poll/", views.LivePollView.as_view(), name="live_poll"),
    path("", include("roadmaps.urls")),
    path("", include("backlog.urls")),
    path("", include("metrics.urls")),
    path("", include("adoption.urls")),
    path("", include("delivery.urls")),
    path("", include("discovery.urls")),
    path("", include("reports.urls")),
    path("", include("governance.urls")),
    path("", include("integrations.urls")),
    path("", include("sso.urls")),
    path("", include("scim.urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/login/", views.PMHubLoginView.as_view(), name="login"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/logout/", views.PMHubLogoutView.as_view(), name="logout"),
    path("accounts/signup/<str:token>/", views.signup_confirm, name="signup_confirm"),
    path("accounts/password_reset/", views.PMHubPasswordResetView.as_view(), name="password_reset"),
    path("accounts/reset/<uidb64>/<token>/", views.PMHubPasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("account/tokens/", views.ApiTokensView.as_view(), name="api_tokens"),
    path("account/tokens/<int:token_id>/revoke/", views.ApiTokenRevokeView.as_view(), name="api_token_revoke"),
    path("search/", views.SearchView.as_view(), name="search"),
    path("notifications/", views.NotificationsView.as_view(), name="notifications"),
    path("account/notifications/", include("reports.account_urls")),
    path("jobs/<int:job_id>/", views.JobProgressView.as_view(), name="job_progress"),
    path("invitations/<str:key>/", views.invitation_accept, name="invitation_accept"),
    path("w/new/", views.WorkspaceCreateView.as_view(), name="workspace_create"),
    path("integrations/", include("integrations.hook_urls")),
    path("sso/", include("sso.public_urls")),
    path("w/<slug:ws>/", include(workspace_patterns)),
    path("share/", include("roadmaps.share_urls")),
    include_by_segment("api/v1/", "pmhub.api.urls"),  # tried by first segment (decision 2202)
    path("scim/v2/", include("scim.scim_urls")),
    path("api/public/v1/", include("discovery.public_urls")),
    path("portal/<slug:slug>/", include("discovery.portal_urls")),
    path("api/schema/", CachedSpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("admin/login/", admin_login),  # the admin's own, with a safe `next` (pmhub/admin.py)
    path("admin/", admin.site.urls),
]
