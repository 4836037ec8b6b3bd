"""API keys members give the site (a Zotero key), sealed before they are stored and opened only to be sent.

Fernet (`cryptography`: AES-128-CBC with an HMAC-SHA256, so a changed token is refused rather than misread), under a
key derived from Django's SECRET_KEY by HKDF-SHA256 (RFC 5869; salt "paperfeed", info naming the purpose and its
version): the stored token is useless without the site's secret, and the secret itself is never used as a cipher
key. Keys derived from SECRET_KEY_FALLBACKS also open tokens, so rotating the secret the Django way keeps links
working; tokens sealed before a secret was dropped cannot be opened (KeyUnreadable: the member pastes the key again).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

SALT = b"paperfeed"
PURPOSE = b"paperfeed api keys of members v1"


class KeyUnreadable(Exception):
    """A stored key that this site's secret cannot open (the secret changed): the member must give it again."""


def _fernet(secret: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=SALT, info=PURPOSE).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _ring() -> MultiFernet:
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet(secret) for secret in secrets])


def seal(key: str) -> str:
    """The key encrypted under the site's current secret, as text for a database column."""
    return _ring().encrypt(key.encode()).decode("ascii")


def unseal(token: str) -> str:
    """The key a sealed token holds; KeyUnreadable when this site's secrets cannot open it."""
    try:
        return _ring().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError, UnicodeError):
        raise KeyUnreadable("the stored key cannot be read with this site's secret key") from None


def ending(key: str) -> str:
    """What the site shows of a key: its last four characters."""
    return key[-4:]
