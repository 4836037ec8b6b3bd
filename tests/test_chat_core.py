"""paperfeed.core.webhooks without Django: URL checks, the payload of each receiver within its documented limits,
escaping of hostile titles, and the JSON body's signature."""

import hashlib
import hmac
import json
import re
import socket

import pytest

from paperfeed.core.webhooks import formats, signing
from paperfeed.core.webhooks.destinations import HostNotFound, UrlRefused, check, parse, why_refused
from paperfeed.core.webhooks.message import Message, MessageSection, PaperLine
from paperfeed.core.webhooks.text import ZERO_WIDTH_SPACE

SITE = "https://papers.example.org"
HOSTILE = (
    "<!everyone> @everyone @here <@123456> [click me](https://evil.example/x) <https://evil.example|Slack link> "
    "*bold* _it_ ~strike~ `code` & http://evil.example/autolink www.evil.example\nsecond line"
)


def public_resolver(*addresses: str):
    """A resolver answering these addresses for any name (as getaddrinfo does), so that public hosts are checked
    without the network."""

    def resolve(host, port, type=0):  # noqa: A002 - getaddrinfo's own keyword
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses
        ]

    return resolve


def paper(n: int, title: str | None = None) -> PaperLine:
    return PaperLine(
        f"2606.{n:05d}",
        title or f"Paper number {n}: a study of things that are long enough to look like a real title, {n}",
        f"{SITE}/papers/2606.{n:05d}",
        "Ada Lovelace, Alan Turing, Grace Hopper and 4 more",
        ("trending #3", "in cs.LG", f"matches “diffusion {n}”"),
    )


def digest_of(count: int, title=None, sections: int = 3) -> Message:
    papers = [paper(n, title) for n in range(count)]
    per = -(-count // sections)
    return Message(
        event="digest",
        title="paperfeed daily digest · Thursday 2 July 2026",
        site_name="paperfeed",
        site_url=SITE,
        link=f"{SITE}/",
        sections=tuple(
            MessageSection(f"s{i}", f"Section {i}", tuple(papers[i * per : (i + 1) * per]), "a note")
            for i in range(sections)
        ),
        period="daily:2026-07-02",
    )


# --- URL checks ---


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://example.org/hook", "Only https:// addresses are accepted"),
        ("https://10.0.0.1/hook", "10.0.0.1 is a private network address"),
        ("https://169.254.169.254/latest", "link-local"),
        ("https://[::1]/hook", "loopback"),
        ("https://0.0.0.0/hook", "unspecified"),
        ("https://224.0.0.1/hook", "multicast"),
        ("https://user:secret@hooks.example.org/x", "user name or password"),
        ("https://hooks.example.org@10.0.0.1/x", "user name or password"),
        ("not a url", "spaces"),
        ("hooks.slack.com/services/T/B/X", "is not a web address"),
        ("ftp://hooks.example.org/x", "is not a web address"),
        ("https://hooks.example.org:99999/x", "is not a web address"),
        ("https://" + "a" * 495 + ".org/", "at most 500"),
        ("", "Give the webhook's address"),
    ],
)
def test_addresses_no_webhook_may_post_to_are_refused_with_the_reason(url, words):
    with pytest.raises(UrlRefused, match=re.escape(words)):
        check(url, allow_loopback=False, resolver=public_resolver("93.184.215.14"))


def test_a_name_is_checked_on_every_address_it_resolves_to():
    check("https://hooks.example.org/x", resolver=public_resolver("93.184.215.14", "2606:2800:21f:cb07::1"))
    with pytest.raises(UrlRefused, match=r"hooks.example.org resolves to 192.168.1.5, a private network address"):
        check("https://hooks.example.org/x", resolver=public_resolver("93.184.215.14", "192.168.1.5"))
    with pytest.raises(UrlRefused, match="resolves to 127.0.0.1, a loopback"):
        check("https://hooks.example.org/x", resolver=public_resolver("::ffff:127.0.0.1"))
    with pytest.raises(UrlRefused, match="100.64.0.1, not a public internet address"):
        check("https://hooks.example.org/x", resolver=public_resolver("100.64.0.1"))


def test_loopback_only_by_its_own_names_and_only_when_allowed():
    with pytest.raises(UrlRefused, match="localhost resolves to 127.0.0.1, a loopback address"):
        check("https://localhost:8443/hook")
    with pytest.raises(UrlRefused, match="Only https://"):
        check("http://127.0.0.1:8080/hook")
    assert check("http://127.0.0.1:8080/hook", allow_loopback=True).addresses[0].is_loopback
    assert check("http://localhost:8080/hook", allow_loopback=True).addresses
    # A name that resolves to 127.0.0.1 (here the real resolver reading a decimal address) is still refused.
    with pytest.raises(UrlRefused, match="2130706433 resolves to 127.0.0.1"):
        check("https://2130706433/hook", allow_loopback=True)
    with pytest.raises(UrlRefused, match="http://"):
        check("http://2130706433/hook", allow_loopback=True)


def test_a_name_that_does_not_resolve_is_not_found_not_refused():
    def nowhere(host, port, type=0):  # noqa: A002
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(HostNotFound, match="cannot be resolved now"):
        check("https://hooks.example.org/x", resolver=nowhere)


def test_the_connection_goes_to_the_checked_address_with_the_name_as_host():
    destination = check("https://hooks.example.org/services/a?b=1", resolver=public_resolver("93.184.215.14"))
    assert destination.url_for(destination.addresses[0]) == "https://93.184.215.14:443/services/a?b=1"
    assert destination.host_header == "hooks.example.org"
    six = check("https://hooks.example.org:8443/x", resolver=public_resolver("2606:2800:21f:cb07::1"))
    assert six.url_for(six.addresses[0]) == "https://[2606:2800:21f:cb07::1]:8443/x"
    assert six.host_header == "hooks.example.org:8443"


def test_why_refused_is_none_for_public_addresses_only():
    import ipaddress

    assert why_refused(ipaddress.ip_address("1.1.1.1")) is None
    assert why_refused(ipaddress.ip_address("fd00::1")) == "a private network address"
    assert why_refused(ipaddress.ip_address("240.0.0.1")) == "a reserved address"
    assert parse("https://HOOKS.example.org./x").host == "hooks.example.org"


# --- Slack ---


def _slack_text(payload: dict) -> str:
    texts = [payload["text"]]
    for block in payload["blocks"]:
        if "text" in block:
            texts.append(block["text"]["text"])
    return "\n".join(texts)


def _shown_count(text: str) -> int:
    return text.count("• <")


def test_a_120_paper_digest_fits_slacks_limits_and_says_how_many_more():
    # Long titles in many sections: more section blocks (3000 characters each) than Slack's 50.
    message = digest_of(120, title="A long title & more " * 40, sections=30)
    payload = formats.slack(message)
    blocks = payload["blocks"]
    assert len(blocks) <= formats.SLACK_MAX_BLOCKS
    assert blocks[0]["type"] == "header" and len(blocks[0]["text"]["text"]) <= 150
    for block in blocks:
        assert block["type"] in {"header", "section", "divider"}
        if block["type"] == "section":
            assert block["text"]["type"] == "mrkdwn" and block["text"]["verbatim"] is True
            assert 0 < len(block["text"]["text"]) <= 3000
    shown = sum(_shown_count(b["text"]["text"]) for b in blocks if b["type"] == "section")
    closing = blocks[-1]["text"]["text"]
    more = int(
        re.search(r"…and (\d+) more papers: <https://papers.example.org/\|see them all on paperfeed>", closing)[1]
    )
    assert shown + more == 120 and more > 0, "what is not shown is counted, never dropped silently"
    assert payload["text"] == "paperfeed daily digest · Thursday 2 July 2026: 120 papers"
    assert json.dumps(payload)  # JSON-serialisable as posted


def test_a_digest_that_fits_is_shown_whole_on_slack():
    payload = formats.slack(digest_of(120))
    shown = sum(_shown_count(b["text"]["text"]) for b in payload["blocks"] if b["type"] == "section")
    assert shown == 120 and "more paper" not in _slack_text(payload)
    assert len(payload["blocks"]) <= 50


def test_hostile_titles_cannot_add_links_or_mentions_on_slack():
    message = digest_of(3, title=HOSTILE)
    text = _slack_text(formats.slack(message))
    assert "<!everyone>" not in text and "<@123456>" not in text and "<https://evil" not in text
    links = re.findall(r"<([^>]*)>", text)
    assert links and all(link.startswith(f"{SITE}/") for link in links), links
    assert "&lt;!everyone&gt;" in text and "&amp;" in text
    assert "\nsecond line" not in text  # a line break in a title does not start a line of its own


# --- Discord ---


def _discord_total(payload: dict) -> int:
    return sum(len(e.get("title", "")) + len(e.get("description", "")) for e in payload["embeds"])


def test_a_120_paper_digest_fits_discords_limits_and_says_how_many_more():
    payload = formats.discord(digest_of(120))
    assert payload["allowed_mentions"] == {"parse": []}
    assert len(payload["content"]) <= 2000
    assert 0 < len(payload["embeds"]) <= 10
    for embed in payload["embeds"]:
        assert len(embed["title"]) <= 256 and len(embed["description"]) <= 4096
    assert _discord_total(payload) <= 6000
    shown = sum(e["description"].count("• [") for e in payload["embeds"])
    closing = payload["embeds"][-1]["description"].splitlines()[-1]
    more = int(
        re.search(r"…and (\d+) more papers: \[see them all on paperfeed\]\(https://papers.example.org/\)", closing)[1]
    )
    assert shown + more == 120 and shown > 0


def test_hostile_titles_cannot_add_links_or_mentions_on_discord_and_mattermost():
    message = digest_of(2, title=HOSTILE)
    for text in (
        "\n".join(e["description"] for e in formats.discord(message)["embeds"]),
        formats.mattermost(message)["text"],
    ):
        assert "@everyone" not in text and "@here" not in text and f"@{ZERO_WIDTH_SPACE}everyone" in text
        # The only Markdown links are the site's: every unescaped "](" opens one of its URLs.
        targets = re.findall(r"(?<!\\)\]\(([^)]*)\)", text)
        assert targets and all(t.startswith(f"{SITE}/") for t in targets), targets
        assert "http://evil" not in text and "https://evil" not in text, "no autolink either"
        assert "<@123456>" not in text and "\nsecond line" not in text


def test_mattermost_gets_the_whole_message_as_markdown_text_within_a_post():
    payload = formats.mattermost(digest_of(120, title="A long title " * 40))
    assert set(payload) == {"text"} and len(payload["text"]) <= 16383
    shown = payload["text"].count("\n- [")
    more = int(re.search(r"…and (\d+) more papers", payload["text"])[1])
    assert shown + more == 120
    assert formats.mattermost(digest_of(10))["text"].count("\n- [") == 10


def test_the_json_body_has_every_paper():
    body = formats.json_body(digest_of(120), "d-1", "2026-07-02T08:00:00Z")
    assert body["paper_count"] == 120 == sum(len(s["papers"]) for s in body["sections"])
    assert body["delivery"] == "d-1" and body["event"] == "digest" and body["version"] == 1
    assert set(body["sections"][0]["papers"][0]) == {"id", "title", "url", "authors", "reasons"}


# --- signing ---


def test_the_signature_is_the_hmac_sha256_of_the_raw_body():
    secret = signing.new_secret()
    body = b'{"a": 1}'
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert signing.signature(secret, body) == expected
    assert signing.verify(secret, body, expected)
    assert not signing.verify(secret, body + b" ", expected)
    assert not signing.verify("another", body, expected)
    assert secret != signing.new_secret()
