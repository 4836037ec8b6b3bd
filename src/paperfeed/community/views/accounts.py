"""Account pages under /accounts/: sign up, sign in (password or emailed link), sign out, confirm an email address,
reset or change a password, settings. Thin: forms read the input, services/accounts.py does the work."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse, reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe

from paperfeed.community.services import accounts
from paperfeed.community.services.permissions import profile_of
from paperfeed.community.views.account_forms import EmailForm, ResetRequestForm, SettingsForm, SignInForm, SignUpForm
from paperfeed.web import safe_next

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
GET_POST = ["GET", "HEAD", "POST"]


@sensitive_post_parameters("password")
@require_http_methods(GET_POST)
def sign_up(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, "")
    form = SignUpForm(request.POST if request.method == "POST" else None)
    refusal = None
    if request.method == "POST":
        refusal = accounts.sign_up_refusal(accounts.client_ip(request))
        if refusal is None and form.is_valid():
            data = form.cleaned_data
            try:
                user = accounts.create_account(
                    data["username"], data["email"], data["password"], data["display_name"], accounts.client_ip(request)
                )
            except accounts.AccountTaken:
                form.add_error(None, "That username or email address was taken a moment ago. Choose another one.")
            else:
                login(request, user, backend=MODEL_BACKEND)
                accounts.send_confirmation(user)
                messages.success(
                    request,
                    f"Welcome, {user.username}! Check your inbox to confirm {user.email}: follow the link we sent "
                    "you. Until then you can upvote papers, but not comment or submit them.",
                )
                return redirect(next_url or "/")
    context = {"form": form, "refusal": refusal, "next": next_url}
    return render(request, "community/accounts/signup.html", context, status=429 if refusal else 200)


def _sign_in_page(
    request: HttpRequest, form: SignInForm, link_form: EmailForm, problem: str | None = None, status: int = 200
) -> HttpResponse:
    context = {"form": form, "link_form": link_form, "problem": problem, "next": safe_next(request, "")}
    return render(request, "community/accounts/signin.html", context, status=status)


@sensitive_post_parameters("password")
@require_http_methods(GET_POST)
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _sign_in_page(request, SignInForm(), EmailForm())
    form = SignInForm(request.POST)
    if not form.is_valid():
        return _sign_in_page(request, form, EmailForm())
    typed = form.cleaned_data["login"]
    result = accounts.password_sign_in(request, typed, form.cleaned_data["password"])
    if result.user is None:
        link_form = EmailForm(initial={"email": typed.strip()} if "@" in typed else None)
        return _sign_in_page(request, form, link_form, result.problem, status=429 if result.refused else 200)
    login(request, result.user)
    messages.success(request, f"Signed in as {result.user.username}.")
    return redirect(safe_next(request, "/"))


@require_http_methods(GET_POST)
def sign_in_link_request(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("signin")
    link_form = EmailForm(request.POST)
    if not link_form.is_valid():
        return _sign_in_page(request, SignInForm(), link_form)
    accounts.send_sign_in_link(link_form.cleaned_data["email"], accounts.client_ip(request), safe_next(request, ""))
    return redirect("signin_link_sent")


@require_safe
def sign_in_link_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "community/accounts/signin_link_sent.html", {"minutes": accounts.sign_in_link_minutes()})


@never_cache
@require_http_methods(GET_POST)
def sign_in_link_use(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    user = accounts.user_from_link(uidb64, token, accounts.sign_in_link_tokens)
    if user is None:
        return render(request, "community/accounts/link_invalid.html", {"kind": "signin"}, status=400)
    if request.method == "POST":
        login(request, user, backend=MODEL_BACKEND)  # updates last_login, which ends this link
        accounts.sign_in_by_link(user)
        messages.success(request, f"Signed in as {user.username}.")
        return redirect(safe_next(request, "/"))
    return render(request, "community/accounts/signin_link.html", {"account": user, "next": safe_next(request, "")})


@require_http_methods(GET_POST)
def sign_out(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        was_signed_in = request.user.is_authenticated
        logout(request)
        if was_signed_in:
            messages.info(request, "You are signed out.")
        return redirect(safe_next(request, "/"))
    if not request.user.is_authenticated:
        return redirect("/")
    return render(request, "community/accounts/signout.html")


@never_cache
@require_http_methods(GET_POST)
def verify_email(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    user = accounts.user_from_link(uidb64, token, accounts.email_confirmation_tokens)
    if user is None:
        if request.user.is_authenticated:
            named = accounts.user_for_uid(uidb64)
            if named is not None and named.pk == request.user.pk and profile_of(named).email_verified:
                messages.info(request, "Your email address is already confirmed.")
                return redirect("account_settings")
        can_resend = request.user.is_authenticated and not profile_of(request.user).email_verified
        return render(
            request, "community/accounts/link_invalid.html", {"kind": "confirm", "can_resend": can_resend}, status=400
        )
    if request.method == "POST":
        accounts.confirm_email(user)
        messages.success(request, f"Thank you: {user.email} is confirmed. You can now comment and submit papers.")
        return redirect("account_settings" if request.user.pk == user.pk else "/")
    return render(request, "community/accounts/verify_email.html", {"account": user})


@login_required
@require_http_methods(GET_POST)
def resend_confirmation(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return redirect("account_settings")
    sent, message = accounts.resend_confirmation(request.user)
    (messages.success if sent else messages.info)(request, message)
    return redirect(safe_next(request, reverse("account_settings")))


@login_required
@require_http_methods(GET_POST)
def account_settings(request: HttpRequest) -> HttpResponse:
    profile = profile_of(request.user)
    initial = {"display_name": profile.display_name, "affiliation": profile.affiliation}
    form = SettingsForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        accounts.update_profile(request.user, form.cleaned_data["display_name"], form.cleaned_data["affiliation"])
        messages.success(request, "Your settings are saved.")
        return redirect("account_settings")
    return render(request, "community/accounts/settings.html", {"form": form, "profile": profile})


class PasswordChange(auth_views.PasswordChangeView):
    template_name = "community/accounts/password_change.html"
    success_url = reverse_lazy("account_settings")

    def form_valid(self, form: Form) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, "Your password is changed. Links emailed to you before now no longer work.")
        return response


class PasswordReset(auth_views.PasswordResetView):
    form_class = ResetRequestForm
    template_name = "community/accounts/password_reset.html"
    success_url = reverse_lazy("password_reset_done")


class PasswordResetDone(auth_views.PasswordResetDoneView):
    template_name = "community/accounts/password_reset_sent.html"


class PasswordResetConfirm(auth_views.PasswordResetConfirmView):
    template_name = "community/accounts/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")
    post_reset_login = True
    post_reset_login_backend = MODEL_BACKEND

    def form_valid(self, form: Form) -> HttpResponse:
        response = super().form_valid(form)
        accounts.confirm_email(self.user)  # the link came by email: the address is the user's
        return response

    def render_to_response(self, context: dict, **kwargs: object) -> HttpResponse:
        if not self.validlink:
            kwargs["status"] = 400
        return super().render_to_response(context, **kwargs)


class PasswordResetComplete(auth_views.PasswordResetCompleteView):
    template_name = "community/accounts/password_reset_complete.html"


urlpatterns = [
    path("signup", sign_up, name="signup"),
    path("signin", sign_in, name="signin"),
    path("signin/link", sign_in_link_request, name="signin_link"),
    path("signin/link/sent", sign_in_link_sent, name="signin_link_sent"),
    path("signin/link/<str:uidb64>/<str:token>", sign_in_link_use, name="signin_link_use"),
    path("signout", sign_out, name="signout"),
    path("verify/resend", resend_confirmation, name="verify_email_resend"),
    path("verify/<str:uidb64>/<str:token>", verify_email, name="verify_email"),
    path("settings", account_settings, name="account_settings"),
    path("password/change", PasswordChange.as_view(), name="password_change"),
    path("password/reset", PasswordReset.as_view(), name="password_reset"),
    path("password/reset/sent", PasswordResetDone.as_view(), name="password_reset_done"),
    path("password/reset/done", PasswordResetComplete.as_view(), name="password_reset_complete"),
    path("password/reset/<str:uidb64>/<str:token>", PasswordResetConfirm.as_view(), name="password_reset_confirm"),
]
