"""Who calls the native API and how often they may: bearer tokens, and rate limits shared by every worker.

Reads need no token; a valid token raises the limit from the client address's to the token's own. Writes need a
token. Limits are counted in the database (community.services.throttle), so all web workers share them; a refused
request is not counted, so waiting the Retry-After seconds is always enough.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer
from ninja.throttling import BaseThrottle

from paperfeed.api.models import ApiToken
from paperfeed.api.services import tokens
from paperfeed.community.services.accounts import client_ip
from paperfeed.community.services.throttle import Limit

MINUTE = timedelta(minutes=1)
ANONYMOUS_READS = Limit("api-anonymous", 120, MINUTE)  # requests without a token, per client address
TOKEN_REQUESTS = Limit("api-token", 600, MINUTE)  # every request made with a token, per token
TOKEN_WRITES = Limit("api-token-writes", 30, MINUTE)  # votes, submissions, collection changes, per token

NO_TOKEN = (
    "This needs an API token: send it as the header `Authorization: Bearer <token>`. "
    "Make one on your account's settings page."
)
BAD_TOKEN = (
    "This API token is not valid: it may have been revoked or mistyped. Make a new one on your account's settings page."
)


@dataclass(frozen=True)
class Caller:
    """Who made an API request: a token's owner, or someone without a token known by their address."""

    token: ApiToken | None
    address: str

    @property
    def user(self) -> AbstractBaseUser | AnonymousUser:
        return self.token.user if self.token else AnonymousUser()


class TokenRefused(AuthenticationError):
    """A request that needs a token came without a valid one (answered 401 with WWW-Authenticate)."""

    def __init__(self, message: str, invalid: bool) -> None:
        super().__init__(401, message)
        self.invalid = invalid  # a token was sent but is not valid (vs. none was sent)


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>` with a token made on the settings page."""

    def __call__(self, request: HttpRequest) -> Caller | None:
        # ninja skips an empty "Bearer " header as if none were sent: refuse it as a bad token instead.
        header = request.headers.get(self.header, "")
        if header.strip().lower() == self.openapi_scheme:
            raise TokenRefused(BAD_TOKEN, invalid=True)
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, token: str) -> Caller:
        found = tokens.token_for_secret(token.strip())
        if found is None:
            raise TokenRefused(BAD_TOKEN, invalid=True)
        return Caller(found, client_ip(request))


def anonymous(request: HttpRequest) -> Caller:
    """A caller without a bearer token (other Authorization schemes, e.g. a proxy's Basic, are left alone)."""
    return Caller(None, client_ip(request))


class RateLimit(BaseThrottle):
    """ninja's throttle hook over the database-backed limits. Set `writes` for operations that change things."""

    def __init__(self, writes: bool = False) -> None:
        self.writes = writes
        self._refused = threading.local()  # ninja asks wait() right after allow_request() on the same thread

    def limits(self, caller: Caller) -> list[tuple[Limit, str]]:
        # Module globals looked up on each call, so that tests can lower them.
        if caller.token is None:
            return [(ANONYMOUS_READS, f"ip:{caller.address}")]
        key = f"token:{caller.token.id}"
        return [(TOKEN_REQUESTS, key)] + ([(TOKEN_WRITES, key)] if self.writes else [])

    def allow_request(self, request: HttpRequest) -> bool:
        checks = self.limits(request.auth)
        for limit, key in checks:
            if not limit.allowed(key):
                self._refused.wait = max(limit.wait(key).total_seconds(), 1.0)
                request.api_rate_limit = limit
                return False
        for limit, key in checks:
            limit.hit(key)
        return True

    def wait(self) -> float:
        return getattr(self._refused, "wait", 60.0)


def limit_message(limit: Limit | None, wait_seconds: int | None) -> str:
    """What a 429 says: which limit was reached, and when to try again."""
    again = f" Try again in {wait_seconds} second{'s' if wait_seconds != 1 else ''}." if wait_seconds else ""
    if limit is None:
        return "Too many requests." + again
    window = _window(limit.window)
    if limit.scope == TOKEN_WRITES.scope:
        return (
            f"Too many changes: at most {limit.limit} votes, submissions and collection changes {window} "
            f"with one token.{again}"
        )
    if limit.scope == TOKEN_REQUESTS.scope:
        return f"Too many requests: at most {limit.limit} {window} with one token.{again}"
    return (
        f"Too many requests: at most {limit.limit} {window} from one address without a token.{again} "
        "Requests with an API token may make more."
    )


def _window(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    if seconds % 3600 == 0:
        return "an hour" if seconds == 3600 else f"every {seconds // 3600} hours"
    if seconds % 60 == 0:
        return "a minute" if seconds == 60 else f"every {seconds // 60} minutes"
    return f"every {seconds} seconds"
