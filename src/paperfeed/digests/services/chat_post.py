"""One POST to a webhook, and what the receiver's answer means: sent, try again later, or refused for good.

Before every request the URL is checked again (paperfeed.core.webhooks.destinations) and the connection goes to
one of the addresses just checked, with the Host header and TLS server name of the URL, so a name that changed to
a private address since it was saved (or between the check and the connection) is refused. Redirects are never
followed; the response body is read up to ANSWER_BYTES; the timeouts are PAPERFEED_WEBHOOK_TIMEOUT_SECONDS.

- 2xx: sent.
- Connection errors, timeouts, a name that does not resolve now, 429 (its Retry-After honoured) and 5xx:
  temporary; the delivery is released and the next run tries again.
- Any other 4xx, a redirect, or an address that is now refused: permanent; the webhook is paused with the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from django.conf import settings

import paperfeed
from paperfeed.core.webhooks import formats, signing
from paperfeed.core.webhooks.destinations import Destination, HostNotFound, UrlRefused, check
from paperfeed.core.webhooks.message import Message
from paperfeed.core.webhooks.text import one_line
from paperfeed.papers.services.ingest.http import retry_after

ANSWER_BYTES = 2048  # of the receiver's answer, read and kept (shown on the settings row)
SHOWN_ANSWER_CHARS = 200
SENT, TEMPORARY, PERMANENT = "sent", "temporary", "permanent"


@dataclass(frozen=True)
class Answer:
    outcome: str  # SENT, TEMPORARY or PERMANENT
    detail: str  # the receiver's answer, or what went wrong, in words
    status: int | None = None
    retry_after: float | None = None  # seconds, from a 429's Retry-After

    @property
    def sent(self) -> bool:
        return self.outcome == SENT


@dataclass(frozen=True)
class Request:
    body: bytes
    headers: dict[str, str]


def build(kind: str, message: Message, delivery: str, secret: str = "", now: datetime | None = None) -> Request:
    """The body and headers of one delivery to a receiver of `kind`; the JSON kind's are signed with `secret`."""
    now = now or datetime.now(UTC)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"paperfeed/{paperfeed.__version__} (webhook delivery)",
        signing.DELIVERY_HEADER: delivery,
        signing.EVENT_HEADER: message.event,
    }
    if kind == "json":
        timestamp = int(now.timestamp())
        sent_at = datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")
        payload = formats.json_body(message, delivery, sent_at)
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers[signing.TIMESTAMP_HEADER] = str(timestamp)
        headers[signing.SIGNATURE_HEADER] = signing.signature(secret, body)
    else:
        body = json.dumps(formats.CHAT_FORMATS[kind](message), ensure_ascii=False).encode()
    return Request(body, headers)


def _answer_text(response: httpx.Response, body: bytes) -> str:
    text = one_line(body.decode("utf-8", "replace"))
    shown = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
    if text:
        shown += ": " + (text if len(text) <= SHOWN_ANSWER_CHARS else text[: SHOWN_ANSWER_CHARS - 1] + "…")
    return shown


def _classify(response: httpx.Response, body: bytes) -> Answer:
    status, shown = response.status_code, _answer_text(response, body)
    if 200 <= status < 300:
        return Answer(SENT, shown, status)
    if status == 429:
        wait = retry_after(response.headers.get("Retry-After"))
        later = f"; asked to wait {wait:.0f} s" if wait is not None else ""
        return Answer(TEMPORARY, f"{shown} (too many requests{later})", status, wait)
    if status >= 500:
        return Answer(TEMPORARY, f"{shown} (the receiver's trouble: tried again later)", status)
    if 300 <= status < 400:
        where = one_line(response.headers.get("Location", ""))[:200]
        return Answer(
            PERMANENT,
            f"{shown}: it redirects{f' to {where}' if where else ''}, and webhooks never follow redirects: "
            "put the final address in",
            status,
        )
    if status in (404, 410):
        return Answer(
            PERMANENT,
            f"{shown}: the receiver says this webhook does not exist (any more): it was deleted, or its channel "
            "archived. Make a new webhook in the chat service and change the address here",
            status,
        )
    return Answer(PERMANENT, f"{shown}: the receiver refused the message", status)


def _post(destination: Destination, request: Request, timeout: float) -> Answer:
    headers = {**request.headers, "Host": destination.host_header}
    extensions = {"sni_hostname": destination.host} if destination.scheme == "https" else {}
    problem = ""
    with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False) as client:
        for address in destination.addresses:  # the checked addresses, in the resolver's order
            try:
                with client.stream(
                    "POST", destination.url_for(address), content=request.body, headers=headers, extensions=extensions
                ) as response:
                    body = b""
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) >= ANSWER_BYTES:
                            break
                    return _classify(response, body[:ANSWER_BYTES])
            except httpx.ConnectError as error:
                problem = f"could not connect to {destination.host} ({str(error) or type(error).__name__})"
            except httpx.TimeoutException:
                return Answer(TEMPORARY, f"{destination.host} did not answer within {timeout:g} s")
            except httpx.HTTPError as error:
                return Answer(
                    TEMPORARY, f"the connection to {destination.host} failed ({str(error) or type(error).__name__})"
                )
    return Answer(TEMPORARY, problem or f"could not connect to {destination.host}")


def deliver(url: str, request: Request) -> Answer:
    """POST `request` to `url` after checking it again; the receiver's answer, classified."""
    try:
        destination = check(url, settings.PAPERFEED_WEBHOOK_ALLOW_LOOPBACK)
    except UrlRefused as error:
        return Answer(PERMANENT, f"the address is refused: {error}")
    except HostNotFound as error:
        return Answer(TEMPORARY, str(error))
    return _post(destination, request, settings.PAPERFEED_WEBHOOK_TIMEOUT_SECONDS)
