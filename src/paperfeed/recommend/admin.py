from django.contrib import admin

from paperfeed.recommend.models import Dismissal, LibraryItem, UserModelState


@admin.register(LibraryItem)
class LibraryItemAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "source_format", "paper", "imported_at"]
    list_filter = ["source_format"]
    search_fields = ["title", "doi", "arxiv_id", "user__username"]
    raw_id_fields = ["user", "paper"]
    exclude = ["embedding"]


@admin.register(Dismissal)
class DismissalAdmin(admin.ModelAdmin):
    list_display = ["user", "paper", "at"]
    raw_id_fields = ["user", "paper"]


@admin.register(UserModelState)
class UserModelStateAdmin(admin.ModelAdmin):
    """Read-only: models are fitted by `paperfeed recommend refit`, never edited by hand."""

    list_display = ["user", "positives", "negatives", "embedding_model", "trained_at"]
    readonly_fields = ["user", "bias", "embedding_model", "positives", "negatives", "fingerprint", "trained_at"]
    exclude = ["weights"]

    def has_add_permission(self, request) -> bool:
        return False
