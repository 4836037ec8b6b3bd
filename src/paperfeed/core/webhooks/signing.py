"""The signature of a generic JSON webhook's body: `X-Paperfeed-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.

The body itself holds the delivery id and the time it was made, so a receiver that checks the signature also knows
both are genuine (docs/webhooks.md: the schema, and a five-line verifier).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "X-Paperfeed-Signature"
TIMESTAMP_HEADER = "X-Paperfeed-Timestamp"
DELIVERY_HEADER = "X-Paperfeed-Delivery"
EVENT_HEADER = "X-Paperfeed-Event"
SECRET_PREFIX = "pfwh_"


def new_secret() -> str:
    """A fresh signing secret: 256 random bits, URL-safe, recognisable by its prefix in a config file."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """Whether `header` is the signature of `body` with `secret` (in constant time)."""
    return hmac.compare_digest(signature(secret, body), header or "")
