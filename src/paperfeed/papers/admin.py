from django.contrib import admin

from paperfeed.papers.models import Author, Authorship, DailyEntry, Organization, Paper, Vote


class AuthorshipInline(admin.TabularInline):
    model = Authorship
    raw_id_fields = ["author"]
    extra = 0


class DailyEntryInline(admin.TabularInline):
    model = DailyEntry
    raw_id_fields = ["submitted_by"]
    extra = 0


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    list_display = ["arxiv_id", "title", "primary_category", "published", "organization"]
    list_filter = ["primary_category"]
    search_fields = ["arxiv_id", "title"]
    date_hierarchy = "published"
    raw_id_fields = ["organization"]
    inlines = [AuthorshipInline, DailyEntryInline]
    show_full_result_count = False  # a count of every paper on each page view is slow on large sites


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "url"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    search_fields = ["name"]
    show_full_result_count = False


@admin.register(DailyEntry)
class DailyEntryAdmin(admin.ModelAdmin):
    list_display = ["day", "paper", "source", "submitted_by"]
    list_filter = ["source"]
    date_hierarchy = "day"
    raw_id_fields = ["paper", "submitted_by"]


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ["user", "paper", "created_at"]
    raw_id_fields = ["user", "paper"]
