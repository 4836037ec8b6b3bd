"""The moderators' side of papers, authors and organizations (registered by community.admin: its actions use the
community's moderation and people services)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from paperfeed.community.services import moderation, people
from paperfeed.papers.models import Author, Authorship, DailyEntry, Organization, Paper, PaperExtras, Vote


class AuthorshipInline(admin.TabularInline):
    model = Authorship
    raw_id_fields = ["author"]
    extra = 0


class DailyEntryInline(admin.TabularInline):
    model = DailyEntry
    raw_id_fields = ["submitted_by"]
    extra = 0


class PaperExtrasInline(admin.StackedInline):
    """What background work found (stars, Hugging Face artifacts, summary, thumbnail) and the problem each last
    met: shown, not edited (the next refresh would overwrite it)."""

    model = PaperExtras
    can_delete = False
    extra = 0
    readonly_fields = [field.name for field in PaperExtras._meta.fields if field.name != "paper"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class AttachToOrganizationForm(forms.Form):
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.order_by("name"),
        empty_label="Choose an organization",
        help_text="The papers' cards and pages will name it, and its page will list them.",
    )


def _papers(count: int) -> str:
    return f"{count} paper{'' if count == 1 else 's'}"


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    list_display = ["external_id", "source", "title", "primary_category", "published", "organization", "hidden"]
    list_filter = ["hidden", "primary_category"]
    search_fields = ["external_id", "arxiv_id", "title"]
    date_hierarchy = "published"
    raw_id_fields = ["organization"]
    # Links are changed on the paper's page, where each change is recorded (community.LinkChange).
    readonly_fields = ["code_url", "code_origin", "project_url", "project_origin"]
    inlines = [AuthorshipInline, DailyEntryInline, PaperExtrasInline]
    show_full_result_count = False  # a count of every paper on each page view is slow on large sites
    actions = ["hide_papers", "show_papers", "attach_to_organization"]

    @admin.action(description="Hide from the site")
    def hide_papers(self, request, queryset):
        count = moderation.hide_papers(queryset)
        self.message_user(request, f"{_papers(count)} hidden: they are off every list, search and page.")

    @admin.action(description="Show again")
    def show_papers(self, request, queryset):
        count = moderation.show_papers(queryset)
        self.message_user(request, f"{_papers(count)} shown again.")

    @admin.action(description="Attach to organization…")
    def attach_to_organization(self, request, queryset):
        """First an intermediate page to choose the organization; its form posts back to this action."""
        form = AttachToOrganizationForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            organization = form.cleaned_data["organization"]
            count = people.attach_to_organization(queryset, organization)
            self.message_user(request, f"{_papers(count)} attached to {organization}.")
            return None  # back to the list of papers
        context = {
            **self.admin_site.each_context(request),
            "title": "Attach papers to an organization",
            "opts": self.model._meta,
            "form": form,
            "papers": queryset.select_related("organization").order_by("-published", "-external_id")[:20],
            "count": queryset.count(),
            # Posted back as they came: the ticked rows, and whether "select all" meant every matching paper.
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across") == "1",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        if not Organization.objects.exists():
            self.message_user(request, "There are no organizations yet: add one first.", messages.WARNING)
        return TemplateResponse(request, "admin/papers/paper/attach_organization.html", context)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Hidden ticked or cleared, title or authors edited: keyword search follows the paper as saved.
        moderation.paper_edited([form.instance.pk])

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        moderation.paper_edited([obj.pk])

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        moderation.paper_edited([])


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
