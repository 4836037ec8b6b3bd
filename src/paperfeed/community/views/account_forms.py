"""The forms of the account pages: they read and check what was typed; services/accounts.py acts on it."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest

from paperfeed.community.services import accounts

PASSWORD_HELP = "At least 8 characters, not a common password, not all digits, not like your username or email."


class SignUpForm(forms.Form):
    username = forms.CharField(  # its length is one of the username rules, checked (and explained) with the others
        help_text=f"Shown on your submissions and comments: {accounts.USERNAME_HELP}",
        widget=forms.TextInput(
            attrs={"maxlength": 30, "autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    email = forms.EmailField(
        max_length=254,
        help_text="We send a link to confirm it. It is never shown to others.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        strip=False, help_text=PASSWORD_HELP, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    display_name = forms.CharField(
        label="Display name",
        max_length=100,
        required=False,
        help_text="Your name as you like it shown on your profile, e.g. Ada Lovelace.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if problem := accounts.username_problem(username):
            raise forms.ValidationError(problem)
        return username

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if accounts.email_taken(email):
            raise forms.ValidationError(accounts.EMAIL_TAKEN)
        return email

    def clean(self) -> dict:
        data = super().clean()
        if password := data.get("password"):
            for problem in accounts.password_problems(password, data.get("username", ""), data.get("email", "")):
                self.add_error("password", problem)
        return data


class SignInForm(forms.Form):
    login = forms.CharField(
        label="Username or email",
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}),
    )
    password = forms.CharField(strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class EmailForm(forms.Form):
    email = forms.EmailField(label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class ResetRequestForm(PasswordResetForm):
    """Django's reset form, sending through services/accounts.py (rate-limited, links from PAPERFEED_SITE_URL)."""

    def save(self, *args, request: HttpRequest, **kwargs) -> None:
        accounts.send_password_reset(self.cleaned_data["email"], accounts.client_ip(request))


class SettingsForm(forms.Form):
    display_name = forms.CharField(
        label="Display name", max_length=100, required=False, help_text="Shown on your profile, e.g. Ada Lovelace."
    )
    affiliation = forms.CharField(
        max_length=200, required=False, help_text="Your lab, university or company, shown on your profile."
    )
