from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .forms import ThrottledAdminAuthenticationForm
from .models import Activity, ApiToken, Invitation, Membership, User, Workspace


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "time_zone", "created_at"]
    inlines = [MembershipInline]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "workspace", "scope", "prefix", "last_used_at", "revoked_at"]
    readonly_fields = ["key_hash", "prefix"]


admin.site.register(Invitation)
admin.site.register(Activity)

# The admin's sign-in goes through the same lockout as the site's (same counters): without it,
# staff passwords could be guessed at /admin/login/ while the normal sign-in was locked.
admin.site.login_form = ThrottledAdminAuthenticationForm


def admin_login(request, extra_context=None):
    """The admin's sign-in with `next` reduced to a local path (pmhub.utils.safe_next), like every
    other sign-in: Django's own check lets a relative `evil.example` through. Mounted at
    /admin/login/ ahead of the admin's URLs."""
    from .utils import safe_next

    target = safe_next(request, "")
    for name in ("GET", "POST"):
        data = getattr(request, name)
        if "next" in data:
            data = data.copy()
            if target:
                data["next"] = target
            else:
                del data["next"]
            setattr(request, name, data)
    return admin.site.login(request, extra_context)  # its LoginView applies CSRF and never_cache
