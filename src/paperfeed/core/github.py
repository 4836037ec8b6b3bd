"""GitHub repositories as the site meets them: which code links name one, and the star count in GitHub's answer
to `GET /repos/{owner}/{repo}` (https://docs.github.com/en/rest/repos/repos#get-a-repository)."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

# GitHub's rules: an owner is letters, digits and single hyphens (39 at most); a repository name is letters,
# digits, '.', '-' and '_' (100 at most). Paths that are GitHub's own pages, not an owner, are not repositories.
_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_NOT_OWNERS = {"orgs", "topics", "features", "marketplace", "sponsors", "settings", "about", "apps", "collections"}


def repo_of(url: str) -> str | None:
    """`owner/name` of a github.com repository link (any page inside it, `.git` clones too); None for any
    other link."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme not in {"http", "https"} or host not in {"github.com", "www.github.com"}:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2:
        return None
    owner, name = segments[0], segments[1].removesuffix(".git")
    if owner.lower() in _NOT_OWNERS or not _OWNER.match(owner) or not _NAME.match(name) or name in {".", ".."}:
        return None
    return f"{owner}/{name}"


def same_repo(a: str, b: str) -> bool:
    """GitHub's owner and repository names are case-insensitive."""
    return a.lower() == b.lower()


class NotARepository(ValueError):
    """GitHub's answer is not a repository's JSON; the message says what was wrong with it."""


def stars_in(body: bytes) -> int:
    """The `stargazers_count` of a repository's JSON; NotARepository for anything else."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotARepository(f"not JSON ({error})") from None
    if not isinstance(data, dict):
        raise NotARepository(f"a JSON {type(data).__name__}, not a repository object")
    stars = data.get("stargazers_count")
    if isinstance(stars, bool) or not isinstance(stars, int) or stars < 0:
        raise NotARepository(f"stargazers_count is {stars!r}, not a count")
    return stars
