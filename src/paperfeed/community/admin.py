"""The moderators' side: profiles and bans, comments to hide, collections, reading groups, authorship claims to
decide, and the changes people made to papers' links."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils import timezone
from django.utils.text import Truncator

from paperfeed.community import papers_admin  # noqa: F401 - registers the papers' models with their moderation
from paperfeed.community.models import (
    AuthorClaim,
    Collection,
    CollectionItem,
    Comment,
    Group,
    Interests,
    LinkChange,
    Membership,
    Profile,
)
from paperfeed.community.services import moderation, people

User = get_user_model()


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


# --- users and their profiles ---


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    verbose_name_plural = "profile"
    fields = ["display_name", "affiliation", "email_verified", "banned"]


def _users(queryset):
    """The users of a selection of users or of profiles (both admins offer the ban actions)."""
    return User.objects.filter(pk__in=queryset.values("user_id")) if queryset.model is Profile else queryset


@admin.action(description="Ban from posting and voting")
def ban(modeladmin, request, queryset):
    count = moderation.ban_users(_users(queryset))
    modeladmin.message_user(request, f"{_count(count, 'user')} banned: they can read but no longer post or vote.")


@admin.action(description="Lift the ban")
def unban(modeladmin, request, queryset):
    count = moderation.unban_users(_users(queryset))
    modeladmin.message_user(request, f"{_count(count, 'user')} may post and vote again.")


if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class ModeratedUserAdmin(UserAdmin):
    """Django's user admin, with the profile inline and ban actions."""

    inlines = [ProfileInline]
    actions = [ban, unban]
    list_display = ["username", "email", "is_staff", "date_joined", "last_login", "banned"]
    list_filter = ["profile__banned", "profile__email_verified", "is_staff", "is_superuser", "is_active"]
    list_select_related = ["profile"]
    ordering = ["-date_joined"]

    @admin.display(boolean=True, description="banned")
    def banned(self, user) -> bool:
        profile = getattr(user, "profile", None)  # accounts made by createsuperuser may have none yet
        return bool(profile and profile.banned)


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "display_name", "affiliation", "email_verified", "banned"]
    list_filter = ["banned", "email_verified"]
    search_fields = ["user__username", "user__email", "display_name", "affiliation"]
    raw_id_fields = ["user"]
    list_select_related = ["user"]
    actions = [ban, unban]


# --- comments ---


@admin.register(Interests)
class InterestsAdmin(admin.ModelAdmin):
    """What a member or an email subscriber follows (their digest's subscription links here)."""

    list_display = ["__str__", "user"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email", "subscription__email"]
    raw_id_fields = ["user"]
    autocomplete_fields = ["authors", "organizations"]  # searched through the papers admin (by name)
    show_full_result_count = False


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["excerpt", "author", "paper", "group", "created_at", "hidden"]
    list_filter = ["hidden", "created_at"]
    search_fields = ["body", "author__username", "paper__external_id"]
    raw_id_fields = ["paper", "author", "parent"]
    list_select_related = ["author", "paper", "group"]
    date_hierarchy = "created_at"
    # Moderators hide comments; they do not rewrite them (and body_html must stay the rendering of body).
    readonly_fields = ["paper", "author", "parent", "group", "body", "body_html", "created_at", "edited_at"]
    fields = ["paper", "author", "parent", "group", "body", "created_at", "edited_at", "hidden"]
    actions = ["hide_comments", "show_comments"]
    show_full_result_count = False

    @admin.display(description="comment")
    def excerpt(self, comment: Comment) -> str:
        return Truncator(comment.body).chars(80) or "(deleted)"

    @admin.action(description="Hide from the site")
    def hide_comments(self, request, queryset):
        count = moderation.hide_comments(queryset)
        self.message_user(request, f"{_count(count, 'comment')} hidden: shown nowhere and counted nowhere.")

    @admin.action(description="Show again")
    def show_comments(self, request, queryset):
        count = moderation.show_comments(queryset)
        self.message_user(request, f"{_count(count, 'comment')} shown again.")

    def has_add_permission(self, request) -> bool:
        return False  # comments are written on the site, by their authors


# --- collections ---


class CollectionItemInline(admin.TabularInline):
    model = CollectionItem
    raw_id_fields = ["paper"]
    extra = 0


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "group", "public", "created_at"]
    list_filter = ["public"]
    search_fields = ["name", "owner__username"]
    raw_id_fields = ["owner", "group"]
    list_select_related = ["owner", "group"]
    inlines = [CollectionItemInline]


# --- reading groups ---


class MembershipInline(admin.TabularInline):
    model = Membership
    raw_id_fields = ["user"]
    exclude = ["feed_token"]  # a member's secret
    extra = 0


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_by", "created_at"]
    search_fields = ["name", "slug"]
    raw_id_fields = ["created_by"]
    inlines = [MembershipInline]


# --- authorship claims ---


@admin.register(AuthorClaim)
class AuthorClaimAdmin(admin.ModelAdmin):
    list_display = ["user", "author", "paper", "status", "created_at", "decided_at"]
    list_filter = ["status"]
    search_fields = ["user__username", "user__email", "author__name", "paper__external_id"]
    raw_id_fields = ["user", "paper", "author"]
    list_select_related = ["user", "author", "paper"]
    readonly_fields = ["created_at", "decided_at"]
    date_hierarchy = "created_at"
    actions = ["approve", "reject"]

    @admin.action(description="Approve: mark the name as theirs")
    def approve(self, request, queryset):
        decisions = people.decide_claims(queryset, approve=True)
        self.message_user(request, f"{_count(decisions.decided, 'claim')} approved.")
        for reason in decisions.skipped:
            self.message_user(request, f"Not approved: {reason}", messages.WARNING)

    @admin.action(description="Reject")
    def reject(self, request, queryset):
        decisions = people.decide_claims(queryset, approve=False)
        self.message_user(request, f"{_count(decisions.decided, 'claim')} rejected.")

    def save_model(self, request, obj, form, change):
        # A status set by hand in the form is a decision too: it gets its date (and loses it back to pending).
        if "status" in form.changed_data:
            obj.decided_at = None if obj.status == AuthorClaim.Status.PENDING else timezone.now()
        super().save_model(request, obj, form, change)


# --- links people gave ---


@admin.register(LinkChange)
class LinkChangeAdmin(admin.ModelAdmin):
    """Every change a submitter, author or moderator made to a paper's code or project link: a record, not edited
    here (to undo one, change the link on the paper's page or its admin page)."""

    list_display = ["at", "username", "kind", "paper", "before", "after"]
    list_filter = ["kind"]
    search_fields = ["username", "paper__external_id", "paper__title", "before", "after"]
    list_select_related = ["paper"]
    date_hierarchy = "at"
    readonly_fields = ["paper", "user", "username", "kind", "before", "after", "at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
