"""The Hugging Face models, datasets and Spaces that cite a paper, from the Hub's list endpoints
(`/api/models?filter=arxiv:ID`, likewise `/api/datasets` and `/api/spaces`; https://huggingface.co/docs/hub/api),
cut to what a paper page shows: a few of each kind, best liked first, and how many there are."""

from __future__ import annotations

import json

KINDS = ("models", "datasets", "spaces")
KEPT = 10  # of each kind, best liked first: the page shows these and links to huggingface.co for the rest
COUNTED = 1000  # asked for at the most: more than this is shown as "1000 or more"


class NotAListing(ValueError):
    """The Hub's answer is not a list of repositories; the message says what was wrong with it."""


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def parse_listing(kind: str, body: bytes) -> list[dict]:
    """The repositories of one answer as small records ({id, likes, downloads}, Spaces with their sdk when the
    Hub says it), best liked first; NotAListing when the answer is not a JSON list of objects with ids."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotAListing(f"not JSON ({error})") from None
    if not isinstance(data, list):
        raise NotAListing(f"a JSON {type(data).__name__}, not a list of {kind}")
    records = []
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"].strip():
            raise NotAListing(f"an item without an id in the list of {kind}: {str(item)[:80]}")
        record = {
            "id": item["id"].strip(),
            "likes": _count(item.get("likes")),
            "downloads": _count(item.get("downloads")),
        }
        if kind == "spaces" and isinstance(item.get("sdk"), str) and item["sdk"]:
            record["sdk"] = item["sdk"]
        records.append(record)
    records.sort(key=lambda r: (-r["likes"], -r["downloads"], r["id"]))
    return records


def artifacts(listings: dict[str, list[dict]]) -> dict:
    """What is stored for a paper (PaperExtras.hf_artifacts): the first KEPT of each kind and each kind's total,
    with `complete` False for a kind whose count reached COUNTED (there may be more)."""
    stored: dict = {"total": {}, "complete": {}}
    for kind in KINDS:
        found = listings.get(kind, [])
        stored[kind] = found[:KEPT]
        stored["total"][kind] = len(found)
        stored["complete"][kind] = len(found) < COUNTED
    return stored
