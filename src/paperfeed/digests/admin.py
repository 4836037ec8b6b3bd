"""Admin pages for digest subscriptions (find, filter, fix an address's status), the send logs (read-only) and
chat webhooks (find one, see why it is paused; the secret is never shown here)."""

from django.contrib import admin

from paperfeed.digests.models import Delivery, Subscription, Webhook, WebhookDelivery


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["email", "status", "frequency", "time_zone", "hour", "user", "source", "created_at", "confirmed_at"]
    list_filter = ["status", "frequency", "source"]
    list_select_related = ["user"]
    search_fields = ["email", "user__username"]
    date_hierarchy = "created_at"
    raw_id_fields = ["user", "interests"]  # what it brings is edited on the interests' own page (community)
    readonly_fields = ["created_at", "confirmed_at", "unsubscribed_at"]
    show_full_result_count = False  # a count of every subscriber on each page view is slow on large sites


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The send log is written by `paperfeed digest send` only: here it can be read, never changed."""

    list_display = ["subscription", "period", "status", "paper_count", "claimed_at", "sent_at"]
    list_filter = ["status"]
    search_fields = ["subscription__email", "period", "message_id"]
    list_select_related = ["subscription"]
    date_hierarchy = "claimed_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "kind", "content", "schedule", "status", "created_at"]
    list_filter = ["kind", "content", "status"]
    search_fields = ["owner__username", "label"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    exclude = ["secret"]
    readonly_fields = ["uid", "paused_at", "last_error", "last_error_at", "last_test_at", "last_test_result"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(DeliveryAdmin):
    """The chat send log, written by `paperfeed digest send` only."""

    list_display = ["webhook", "key", "status", "paper_count", "claimed_at", "sent_at"]
    search_fields = ["webhook__owner__username", "key"]
    list_select_related = ["webhook"]
