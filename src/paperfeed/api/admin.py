"""Admin for API tokens: find a member's tokens and revoke (delete) one that leaked. Secrets are never stored."""

from django.contrib import admin

from paperfeed.api.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made by their owners on the settings page; here they can be looked at and revoked only."""

    list_display = ["name", "prefix", "user", "created_at", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "name", "prefix"]
    date_hierarchy = "created_at"
    readonly_fields = ["user", "name", "prefix", "digest", "created_at", "last_used_at"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
