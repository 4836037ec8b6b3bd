"""The one HTTP client every source fetcher uses: timeouts, polite pacing, retries, a User-Agent.

arXiv asks for no more than one request every three seconds on one connection, and throttles with
503 + Retry-After; Hugging Face answers 429 when pressed. FetchError says, in an operator's terms, what
failed.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

import paperfeed

RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_RETRY_AFTER = 600.0  # seconds: a longer Retry-After means "come back later", not "wait here"


class FetchError(Exception):
    """A request that failed for good (after retries); the message names the URL and the reason."""


def user_agent(contact: str | None) -> str:
    """Names paperfeed and, as arXiv asks of harvesters, whom to contact about this instance."""
    base = f"paperfeed/{paperfeed.__version__} (self-hosted Daily Papers site"
    return base + (f"; mailto:{contact})" if contact else ")")


@dataclass
class SourceClient:
    """GETs with at least `min_interval` seconds between the starts of two requests, and retries.

    Retried: connection errors, timeouts, 429 and 5xx, up to `retries` times, waiting Retry-After when the
    server gives one (capped at MAX_RETRY_AFTER) and exponential backoff (`backoff` × 2^n) otherwise.
    """

    min_interval: float = 0.0
    timeout: float = 30.0
    retries: int = 3
    backoff: float = 2.0
    contact: str | None = None
    sleep: Callable[[float], None] = time.sleep
    _last_start: float = field(default=0.0, init=False)
    _client: httpx.Client | None = field(default=None, init=False)

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                timeout=httpx.Timeout(self.timeout),
                headers={"User-Agent": user_agent(self.contact)},
                follow_redirects=True,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> SourceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _pace(self) -> None:
        wait = self._last_start + self.min_interval - time.monotonic()
        if wait > 0:
            self.sleep(wait)
        self._last_start = time.monotonic()

    def get(self, url: str, params: dict | None = None) -> httpx.Response:
        """A successful (2xx) response, or FetchError once retries are spent or the error is permanent."""
        attempt = 0
        http = self._http()  # made before pacing, so that its set-up time does not eat into the interval
        while True:
            self._pace()
            try:
                response = http.get(url, params=params)
            except httpx.TimeoutException:
                problem, wait = f"no answer within {self.timeout:g} s", None
            except httpx.TransportError as error:
                problem, wait = f"could not connect ({error.__class__.__name__}: {error})", None
            else:
                if response.is_success:
                    return response
                problem = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
                if response.status_code not in RETRY_STATUSES:
                    raise FetchError(f"{_shown(response.request.url)}: {problem}")
                wait = retry_after(response.headers.get("Retry-After"))
                if wait is not None and wait > MAX_RETRY_AFTER:
                    raise FetchError(
                        f"{_shown(response.request.url)}: {problem}, asked to retry after {wait:.0f} s; try later"
                    )
            if attempt >= self.retries:
                shown = _shown(httpx.URL(url, params=params))
                raise FetchError(f"{shown}: {problem} (gave up after {attempt + 1} attempts)")
            self.sleep(wait if wait is not None else self.backoff * 2**attempt)
            attempt += 1


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _shown(url: httpx.URL) -> str:
    return str(url)[:300]
