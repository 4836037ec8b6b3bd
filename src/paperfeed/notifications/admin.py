from django.contrib import admin

from paperfeed.notifications.models import EmailPreferences, Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Read-only: what members were told of, and whether (and why not) it was emailed."""

    list_display = ["recipient", "kind", "actor", "paper", "created", "read_at", "email_plan", "emailed_at"]
    list_filter = ["kind", "email_plan"]
    search_fields = ["recipient__username", "actor__username", "email_error"]
    list_select_related = ["recipient", "actor", "paper"]
    date_hierarchy = "created"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(EmailPreferences)
class EmailPreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "reply", "mention", "paper_comment", "claim", "summary_sent_on"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
