"""The Zotero Web API's answers (v3) read into plain values: items into the records every library format gives,
the deleted-objects list, and what an API key may read.

Pure Python, no HTTP: bytes in, values out (the sync in recommend.services.zotero does the requests). Formats, as
documented at https://www.zotero.org/support/dev/web_api/v3/basics and .../v3/syncing:

- `GET <library>/items?format=json` answers a JSON array of items, each `{"key", "version", "library", "meta",
  "data": {"itemType", "title", "creators", "abstractNote", "date", "DOI", "url", "extra", "archiveID", …}}`;
  `data.deleted` is set on an item in the trash (listed with `includeTrashed=1`);
- `GET <library>/deleted?since=V` answers `{"items": [keys], "collections": [...], ...}`;
- `GET /keys/current` answers `{"userID", "username", "access": {"user": {"library": true, ...},
  "groups": {"all" | "<groupID>": {"library": true, ...}}}}`.

A page that is not such JSON raises ZoteroFormatError as a whole (the sync keeps its state and tries again); an
item that cannot be read, or has nothing to match or embed by, is reported by its key and the others are kept.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from paperfeed.core.library.records import EntryProblem, LibraryRecord, arxiv_id_in, make_record

# Child items and what is not a reference: they say nothing about what the member reads.
NOT_REFERENCES = frozenset({"attachment", "note", "annotation"})
_EXTRA_DOI = re.compile(r"^\s*DOI:\s*(\S+)", re.I | re.M)


class ZoteroFormatError(ValueError):
    """An answer of the Zotero API that is not what its documentation describes; the message says how."""


@dataclass
class ZoteroItems:
    """One page of `<library>/items`: the references read, the keys to take out of the member's library (items in
    the trash, and items that changed into something unusable), and what was left out."""

    records: list[LibraryRecord] = field(default_factory=list)
    trashed: list[str] = field(default_factory=list)
    problems: list[EntryProblem] = field(default_factory=list)  # by key; such an item is taken out too
    skipped: int = 0  # attachments, notes and annotations
    count: int = 0  # items on the page, whatever became of them (paging goes by it)

    @property
    def removed(self) -> list[str]:
        """Keys of items that must not be in the member's library after this page."""
        return self.trashed + [p.key for p in self.problems if p.key]


@dataclass(frozen=True)
class KeyAccess:
    """What `GET /keys/current` says of a key: whose it is and which libraries it may read."""

    user_id: str
    username: str
    user_library: bool
    all_groups: bool
    groups: frozenset[str]  # ids of the groups it may read one by one

    def reads(self, library_type: str, library_id: str) -> bool:
        """Whether the key may read that library ("user" or "group", and its id)."""
        if library_type == "user":
            return self.user_library and self.user_id == str(library_id)
        return self.all_groups or str(library_id) in self.groups


def _json(body: bytes, what: str) -> object:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        shown = body[:60].decode("utf-8", "replace").strip()
        raise ZoteroFormatError(f"{what} is not JSON ({error.__class__.__name__}; it starts “{shown}”)") from None


def _text(data: dict, name: str) -> str:
    value = data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str | int | float):
        raise ValueError(f"its {name} is not text")
    return str(value)


def _creator(creator: object) -> str:
    if not isinstance(creator, dict):
        return ""
    if creator.get("name"):  # a single-field name (an organization)
        return str(creator["name"])
    return " ".join(str(creator[part]) for part in ("firstName", "lastName") if creator.get(part))


def _authors(data: dict) -> list[str]:
    creators = data.get("creators") or []
    if not isinstance(creators, list):
        raise ValueError("its creators are not a list of people")
    authors = [c for c in creators if isinstance(c, dict) and c.get("creatorType", "author") == "author"]
    return [_creator(c) for c in (authors or creators)]


def item_record(entry: int, item: dict) -> LibraryRecord:
    """The record of one Zotero item (a dict with `key` and `data`); ValueError when it cannot be used."""
    data = item.get("data")
    if not isinstance(data, dict):
        raise ValueError("it has no data object")
    meta = item.get("meta") if isinstance(item.get("meta"), dict) else {}
    extra = _text(data, "extra")
    doi = _text(data, "DOI") or next(iter(_EXTRA_DOI.findall(extra)), "")
    arxiv_id = arxiv_id_in(
        _text(data, "archiveID"),  # the preprint type: "arXiv:2606.00001"
        extra,  # "arXiv: 2606.00001", as Zotero's arXiv translator writes it
        _text(data, "url"),
        doi,
        _text(data, "publicationTitle"),  # older imports: "arXiv:2606.00001 [cs]"
        _text(data, "reportNumber"),
        _text(data, "number"),
    )
    return make_record(
        entry,
        str(item.get("key", "")),
        _text(data, "title"),
        _text(data, "abstractNote"),
        _authors(data),
        meta.get("parsedDate") or _text(data, "date"),
        doi,
        arxiv_id,
    )


def parse_items(body: bytes, first_entry: int = 1) -> ZoteroItems:
    """A page of `<library>/items?format=json`; ZoteroFormatError when it is not a JSON array of items.

    `first_entry`: the 1-based position of the page's first item in the whole answer (the request's start + 1)."""
    items = _json(body, "Zotero's list of items")
    if not isinstance(items, list):
        raise ZoteroFormatError("Zotero's list of items is not a JSON array")
    page = ZoteroItems(count=len(items))
    for entry, item in enumerate(items, first_entry):
        key = item.get("key") if isinstance(item, dict) else None
        if not isinstance(key, str) or not key:
            page.problems.append(EntryProblem(entry, "it is not a Zotero item (an object with a key)"))
            continue
        data = item.get("data")
        if isinstance(data, dict) and data.get("itemType") in NOT_REFERENCES:
            page.skipped += 1
            continue
        if isinstance(data, dict) and data.get("deleted"):
            page.trashed.append(key)
            continue
        try:
            page.records.append(item_record(entry, item))
        except (ValueError, TypeError, AttributeError) as error:
            message = str(error) if isinstance(error, ValueError) else "a field has an unexpected shape"
            page.problems.append(EntryProblem(entry, message, None, key[:200]))
    return page


def parse_deleted(body: bytes) -> list[str]:
    """Keys of the items deleted since a version, from `<library>/deleted?since=V`."""
    deleted = _json(body, "Zotero's list of deleted objects")
    if not isinstance(deleted, dict) or not isinstance(deleted.get("items", []), list):
        raise ZoteroFormatError("Zotero's list of deleted objects is not an object with a list of items")
    return [key for key in deleted.get("items", []) if isinstance(key, str) and key]


def parse_key_access(body: bytes) -> KeyAccess:
    """What `/keys/current` says the key may read."""
    info = _json(body, "Zotero's description of the key")
    if not isinstance(info, dict) or "userID" not in info:
        raise ZoteroFormatError("Zotero's description of the key has no userID")
    access = info.get("access") if isinstance(info.get("access"), dict) else {}
    user = access.get("user") if isinstance(access.get("user"), dict) else {}
    groups = access.get("groups") if isinstance(access.get("groups"), dict) else {}

    def reads(rights: object) -> bool:
        return isinstance(rights, dict) and rights.get("library") is True

    return KeyAccess(
        user_id=str(info["userID"]),
        username=str(info.get("username") or ""),
        user_library=reads(user),
        all_groups=reads(groups.get("all")),
        groups=frozenset(str(gid) for gid, rights in groups.items() if gid != "all" and reads(rights)),
    )


def header_number(value: str | None) -> int | None:
    """A numeric header (`Last-Modified-Version`, `Total-Results`) as a number; None when absent or not one."""
    value = (value or "").strip()
    return int(value) if value.isdigit() else None
