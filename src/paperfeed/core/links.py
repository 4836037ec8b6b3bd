"""A paper's code and project links: which URLs are acceptable as links, and which ones its abstract or comment
names ("Code is available at https://github.com/…", "Project page: https://….github.io/").

From a text, the code link is the first repository on a code host (GitHub, GitLab, Codeberg, Bitbucket), else the
first Hugging Face repository (a model, dataset or Space: what many papers publish instead of code); the project
link is the first page a text introduces as one ("project page", "website", "homepage", "demo"), else the first
GitHub Pages site or Hugging Face Space that is not already the code link.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import NamedTuple
from urllib.parse import urlsplit

MAX_CHARS = 500  # the longest link kept (the database's limit, and far more than any real one)

CODE_HOSTS = ("github.com", "gitlab.com", "codeberg.org", "bitbucket.org")
HUGGING_FACE = "huggingface.co"

_URL = re.compile(r"https?://[^\s<>\"'`{}|\\^\[\]]+", re.IGNORECASE)
_PROJECT_WORDS = re.compile(
    r"(?:project|code\s+and\s+data|web)\s*(?:page|site|website)|home\s*page|website|demo|project\s*:", re.IGNORECASE
)
_TRAILING = ".,;:!?'\"*"
# Paths on a code host that are not repositories (github.com/features, github.com/orgs/…).
_NOT_REPOSITORIES = {"about", "features", "orgs", "topics", "sponsors", "marketplace", "settings", "login", "explore"}


class LinkError(ValueError):
    """Why a link cannot be kept, in words for the person who gave it."""


class FoundLinks(NamedTuple):
    code: str | None = None
    project: str | None = None


def check_link(value: str, site_hosts: Collection[str] = ()) -> str:
    """The link as it will be kept (trimmed), or LinkError: an absolute http(s) URL with a host, without spaces or
    control characters, at most MAX_CHARS long, and not on this site itself (`site_hosts`, lower case)."""
    value = value.strip()
    if len(value) > MAX_CHARS:
        raise LinkError(f"a link may be {MAX_CHARS} characters long at most; this one has {len(value):,}")
    if not value.isprintable() or any(char.isspace() for char in value):
        raise LinkError("a link cannot contain spaces or control characters")
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise LinkError(f"{value[:80]!r} is not a web address") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise LinkError("a link must start with http:// or https://")
    if not host or "." not in host.strip("."):
        raise LinkError(f"{value[:80]!r} is not an address on the web (like https://github.com/owner/repo)")
    if host in site_hosts or host.removeprefix("www.") in site_hosts:
        raise LinkError("that link points at this site itself: give the code's or project's own address")
    return value


def links_in(*texts: str) -> FoundLinks:
    """The code and project links the texts name (see the module's docstring), in the order they are written."""
    code = hub = project = page = space = None
    for text in texts:
        for match in _URL.finditer(text or ""):
            url = _tidy(match.group(0))
            try:
                check_link(url)
            except LinkError:
                continue
            host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
            path = [segment for segment in urlsplit(url).path.split("/") if segment]
            introduced = _PROJECT_WORDS.search(text[max(0, match.start() - 40) : match.start()])
            if host in CODE_HOSTS and len(path) >= 2 and path[0].lower() not in _NOT_REPOSITORIES:
                code = code or _repository(host, path)
            elif host == HUGGING_FACE and path and path[0] == "spaces" and len(path) >= 3:
                space = space or f"https://{HUGGING_FACE}/{'/'.join(path[:3])}"
                hub = hub or space
            elif host == HUGGING_FACE and len(path) >= 2 and path[0] not in ("papers", "docs", "blog"):
                size = 3 if path[0] == "datasets" else 2
                hub = hub or (f"https://{HUGGING_FACE}/{'/'.join(path[:size])}" if len(path) >= size else None)
            elif introduced and project is None:
                project = url
            elif host.endswith(".github.io") and page is None:
                page = url
    code = code or hub
    if project is None:
        project = next((url for url in (page, space) if url and url != code), None)
    return FoundLinks(code=code, project=project)


def _tidy(url: str) -> str:
    """A URL as written in running text, without the sentence's punctuation after it or an unmatched bracket."""
    url = url.rstrip(_TRAILING)
    while url.endswith(")") and url.count("(") < url.count(")"):
        url = url[:-1].rstrip(_TRAILING)
    return url


def _repository(host: str, path: list[str]) -> str:
    """The repository's own address: github.com/owner/name (not a file or branch in it); on GitLab, whose groups
    nest, everything before the `/-/` of its pages."""
    if host == "gitlab.com":
        kept = path[: path.index("-")] if "-" in path else path
        return f"https://gitlab.com/{'/'.join(kept)}".removesuffix(".git")
    return f"https://{host}/{path[0]}/{path[1].removesuffix('.git')}"
