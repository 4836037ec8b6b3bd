"""Reading group pages: your groups, a group's page, and the forms that invite, join, change roles, leave, pin the
week's reading and make a shared collection. Plain forms answered with a redirect; no JavaScript needed.

Whatever is private to a group answers anyone who is not a member, signed in or not, with a 404, as if there were
no such group.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from paperfeed.community.models import Group, Membership
from paperfeed.community.services import collections, groups
from paperfeed.community.services.collections import CollectionRefused
from paperfeed.community.services.groups import GroupRefused, InvitationInvalid
from paperfeed.web import page_number

NO_GROUP = "There is no such group, or you are not one of its members."


def _see_other(url: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(url, status=303)  # after a POST, the browser fetches the page with GET


def _group_url(group: Group, anchor: str = "") -> str:
    return reverse("group", args=[group.slug]) + (f"#{anchor}" if anchor else "")


def _member_of(request: HttpRequest, slug: str) -> tuple[Group, Membership]:
    found = groups.group_for_member(slug, request.user)
    if found is None:
        raise Http404(NO_GROUP)
    return found


def _refused(request: HttpRequest, refusal: GroupRefused, group: Group | None = None, **extra) -> HttpResponse:
    if refusal.status == 404 and not isinstance(refusal, InvitationInvalid):
        raise Http404(refusal.message)
    context = {"message": refusal.message, **extra}
    if group is not None:
        context.update(back=_group_url(group), back_label=f"Back to {group.name}")
    elif request.user.is_authenticated:
        context.update(back=reverse("groups"), back_label="Your groups")
    return render(request, "community/refused.html", context, status=refusal.status)


# --- your groups ---


@require_http_methods(["GET", "HEAD", "POST"])
def my_groups(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("groups"))
    context = {"memberships": groups.groups_of(request.user), "form": {"name": "", "description": ""}}
    if request.method != "POST":
        return render(request, "community/groups.html", context)
    form = {"name": request.POST.get("name", ""), "description": request.POST.get("description", "")}
    try:
        group = groups.create_group(request.user, **form)
    except GroupRefused as refusal:
        context.update(form=form, error=refusal.message)
        return render(request, "community/groups.html", context, status=refusal.status)
    return _see_other(_group_url(group))


# --- a group's page ---


@never_cache
@require_safe
def group_page(request: HttpRequest, slug: str) -> HttpResponse:
    group, me = _member_of(request, slug)
    today = timezone.localdate()
    is_owner = me.role == groups.Role.OWNER
    context = {
        "group": group,
        "me": me,
        "is_owner": is_owner,
        "may_curate": groups.may_curate(request.user, group.pk),
        "members": groups.members(group),
        "pin": groups.weekly_reading(group, today),
        "past_pins": groups.past_pins(group, today),
        "collections": collections.group_collections(group),
        "activity": groups.activity(group, page_number(request)),
        "invitations": groups.pending_invitations(group) if is_owner else [],
        "roles": groups.Role.choices,
        "feed_url": request.build_absolute_uri(reverse("feed-group", args=[group.slug, me.feed_token])),
        "note_chars": groups.NOTE_CHARS,
    }
    return render(request, "community/group.html", context)


# --- invitations ---


@require_POST
def invite(request: HttpRequest, slug: str) -> HttpResponse:
    group, _ = _member_of(request, slug)
    role, email = request.POST.get("role", groups.Role.MEMBER), request.POST.get("email", "")
    try:
        made = groups.invite(request.user, group, role, email)
    except GroupRefused as refusal:
        return _refused(request, refusal, group)
    context = {"group": group, "invitation": made.invitation, "link": request.build_absolute_uri(made.path)}
    response = render(request, "community/group_invited.html", context)
    response["Cache-Control"] = "no-store"  # the link is shown once: only its hash is kept
    return response


@require_POST
def revoke_invitation(request: HttpRequest, slug: str, invitation_id: int) -> HttpResponse:
    group, _ = _member_of(request, slug)
    try:
        groups.revoke_invitation(request.user, group, invitation_id)
    except GroupRefused as refusal:
        return _refused(request, refusal, group)
    return _see_other(_group_url(group, "invitations"))


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def join(request: HttpRequest, token: str) -> HttpResponse:
    """An invitation link: a page that says which group it opens (joining is a POST, never a GET)."""
    try:
        invitation = groups.invitation_for(token)
    except InvitationInvalid as refusal:
        return _refused(request, refusal, heading="This invitation cannot be used")
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    existing = groups.membership(request.user, invitation.group)
    if existing is not None:
        return _see_other(_group_url(invitation.group))
    if request.method != "POST":
        context = {"invitation": invitation, "group": invitation.group, "token": token}
        return render(request, "community/group_join.html", context)
    try:
        joined = groups.accept(request.user, token)
    except GroupRefused as refusal:
        return _refused(request, refusal, heading="This invitation cannot be used")
    return _see_other(_group_url(joined.group))


# --- members and roles ---


@require_POST
def set_role(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    group, _ = _member_of(request, slug)
    try:
        groups.set_role(request.user, group, user_id, request.POST.get("role", ""))
    except GroupRefused as refusal:
        return _refused(request, refusal, group)
    return _see_other(_group_url(group, "members"))


@require_POST
def remove_member(request: HttpRequest, slug: str, user_id: int) -> HttpResponse:
    group, _ = _member_of(request, slug)
    try:
        groups.remove_member(request.user, group, user_id)
    except GroupRefused as refusal:
        return _refused(request, refusal, group)
    if user_id == request.user.pk:
        return _see_other(reverse("groups"))
    return _see_other(_group_url(group, "members"))


@require_POST
def leave(request: HttpRequest, slug: str) -> HttpResponse:
    group, _ = _member_of(request, slug)
    try:
        groups.remove_member(request.user, group, request.user.pk)
    except GroupRefused as refusal:
        return _refused(request, refusal, group)
    return _see_other(reverse("groups"))


# --- the week's reading and shared collections ---


@require_POST
def pin(request: HttpRequest, slug: str) -> HttpResponse:
    group, _ = _member_of(request, slug)
    try:
        groups.pin(request.user, group, request.POST.get("paper", ""), request.POST.get("note", ""))
    except GroupRefused as refusal:
        if refusal.status == 404 and groups.is_member(request.user, group.pk):
            refusal = GroupRefused(refusal.message, 400)  # the paper is missing, not the group
        return _refused(request, refusal, group)
    return _see_other(_group_url(group, "this-week"))


@require_POST
def new_collection(request: HttpRequest, slug: str) -> HttpResponse:
    group, _ = _member_of(request, slug)
    name, description = request.POST.get("name", ""), request.POST.get("description", "")
    try:
        made = collections.create_collection(request.user, name, description, group=group)
    except CollectionRefused as refusal:
        return _refused(request, GroupRefused(refusal.message, refusal.status), group)
    return _see_other(reverse("collection", args=[made.owner.username, made.slug]))


urlpatterns = [
    path("groups", my_groups, name="groups"),
    path("groups/join/<str:token>", join, name="group-join"),
    path("groups/<slug:slug>", group_page, name="group"),
    path("groups/<slug:slug>/invitations", invite, name="group-invite"),
    path("groups/<slug:slug>/invitations/<int:invitation_id>/revoke", revoke_invitation, name="group-revoke"),
    path("groups/<slug:slug>/members/<int:user_id>/role", set_role, name="group-role"),
    path("groups/<slug:slug>/members/<int:user_id>/remove", remove_member, name="group-remove"),
    path("groups/<slug:slug>/leave", leave, name="group-leave"),
    path("groups/<slug:slug>/pin", pin, name="group-pin"),
    path("groups/<slug:slug>/collections", new_collection, name="group-collection-create"),
]
