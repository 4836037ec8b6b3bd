"""The payload each kind of receiver takes, within its documented limits; nothing is dropped without saying so.

- Slack (https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks, block reference
  https://docs.slack.dev/reference/block-kit/blocks): `text` (the notification line) and `blocks`, at most 50; a
  header's text at most 150 characters, a section's 3000. Every text is `mrkdwn` with `verbatim: true`, so that
  Slack links no URL and no channel name of its own accord: the only links are the site's, written `<url|title>`.
- Mattermost (https://developers.mattermost.com/integrate/webhooks/incoming/) takes Slack's incoming-webhook JSON
  but does not draw Slack's blocks (mattermost/mattermost#14973), so its `text` holds the whole message in
  Markdown, within the 16383 characters of a post.
- Discord (https://discord.com/developers/docs/resources/webhook#execute-webhook and
  https://discord.com/developers/docs/resources/message#embed-object-embed-limits): `content` at most 2000
  characters, at most 10 embeds, a title at most 256, a description 4096, and 6000 characters in all the embeds
  together; `allowed_mentions: {"parse": []}` so that no text can ping anyone.
- json: every paper, no limit but the receiver's (docs/webhooks.md has the schema).

When papers do not fit, the message ends with "…and N more papers" linking to the site (`Message.link`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from paperfeed.core.webhooks.message import Message, MessageSection, PaperLine
from paperfeed.core.webhooks.text import fit, link_url, markdown_escape, one_line, plural, slack_escape

SLACK_MAX_BLOCKS = 50
SLACK_MAX_SECTION_CHARS = 3000
SLACK_MAX_HEADER_CHARS = 150
MATTERMOST_MAX_CHARS = 16383
DISCORD_MAX_CONTENT = 2000
DISCORD_MAX_EMBEDS = 10
DISCORD_MAX_TITLE = 256
DISCORD_MAX_DESCRIPTION = 4096
DISCORD_MAX_TOTAL = 6000
# What one paper's line may take of each part, once escaped: a hostile 10,000-character title still leaves room.
TITLE_CHARS, AUTHORS_CHARS, REASONS_CHARS = 400, 200, 200
JSON_VERSION = 1


def _more_count(message: Message, shown: int) -> int:
    return message.paper_count - shown


def _closing_room(message: Message, closing: Callable[[Message, int], str]) -> int:
    """Room kept for the closing "…and N more papers" line (its link can be long: a saved search's query)."""
    return len(closing(message, message.paper_count)) + 2


# --- Slack ---


def _slack_url(url: str) -> str:
    return link_url(url).replace("&", "&amp;")


def _slack_paper(paper: PaperLine) -> str:
    line = f"• <{_slack_url(paper.url)}|{fit(paper.title, TITLE_CHARS, slack_escape)}>"
    if paper.authors:
        line += f" — {fit(paper.authors, AUTHORS_CHARS, slack_escape)}"
    if paper.reasons:
        line += f"  _{fit(' · '.join(paper.reasons), REASONS_CHARS, slack_escape)}_"
    return line


def _slack_heading(section: MessageSection) -> str:
    text = f"*{fit(section.heading, 200, slack_escape)}*"
    if section.note:
        text += f"\n_{fit(section.note, 300, slack_escape)}_"
    return text


def _slack_more(message: Message, more: int) -> str:
    site = fit(message.site_name, 100, slack_escape)
    return f"…and {plural(more, 'more paper')}: <{_slack_url(message.link)}|see them all on {site}>"


def _mrkdwn(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


def slack(message: Message) -> dict:
    """Slack's incoming-webhook JSON: a header, then per section a divider and section blocks of its papers."""
    blocks: list[tuple[dict, int]] = []  # each block, and how many papers it shows
    header = fit(message.title, SLACK_MAX_HEADER_CHARS, one_line)
    blocks.append(({"type": "header", "text": {"type": "plain_text", "text": header, "emoji": False}}, 0))
    if message.intro:
        blocks.append((_mrkdwn(fit(message.intro, SLACK_MAX_SECTION_CHARS, slack_escape)), 0))
    for section in message.sections:
        if not section.papers:
            continue
        blocks.append(({"type": "divider"}, 0))
        text, count = _slack_heading(section), 0
        for paper in section.papers:
            line = _slack_paper(paper)
            if len(text) + 1 + len(line) > SLACK_MAX_SECTION_CHARS:
                blocks.append((_mrkdwn(text), count))
                text, count = line, 1
            else:
                text, count = text + "\n" + line, count + 1
        blocks.append((_mrkdwn(text), count))
    if len(blocks) > SLACK_MAX_BLOCKS:
        blocks = blocks[: SLACK_MAX_BLOCKS - 1]
        while blocks and blocks[-1][0]["type"] == "divider":
            blocks.pop()
    shown = sum(count for _, count in blocks)
    more = _more_count(message, shown)
    if more:
        blocks.append((_mrkdwn(_slack_more(message, more)), 0))
    fallback = f"{message.title}: {plural(message.paper_count, 'paper')}" if message.sections else message.title
    return {
        "text": fit(fallback, 300, slack_escape),
        "blocks": [block for block, _ in blocks],
        "unfurl_links": False,
        "unfurl_media": False,
    }


# --- Markdown (Mattermost, Discord) ---


def _markdown_paper(paper: PaperLine, bullet: str = "-") -> str:
    line = f"{bullet} [{fit(paper.title, TITLE_CHARS, markdown_escape)}]({link_url(paper.url)})"
    if paper.authors:
        line += f" — {fit(paper.authors, AUTHORS_CHARS, markdown_escape)}"
    if paper.reasons:
        line += f" · *{fit(' · '.join(paper.reasons), REASONS_CHARS, markdown_escape)}*"
    return line


def _markdown_more(message: Message, more: int) -> str:
    site = fit(message.site_name, 100, markdown_escape)
    return f"…and {plural(more, 'more paper')}: [see them all on {site}]({link_url(message.link)})"


def mattermost(message: Message) -> dict:
    """Slack-compatible JSON whose `text` is the whole message in Markdown (Mattermost ignores Slack's blocks)."""
    lines = [f"#### {fit(message.title, 300, markdown_escape)}"]
    if message.intro:
        lines.append(fit(message.intro, 1000, markdown_escape))
    budget = MATTERMOST_MAX_CHARS - _closing_room(message, _markdown_more)
    used, shown, full = len(lines[0]) + sum(len(line) + 1 for line in lines[1:]), 0, False
    for section in message.sections:
        if not section.papers or full:
            continue
        heading = f"\n**{fit(section.heading, 200, markdown_escape)}**"
        if section.note:
            heading += f"\n*{fit(section.note, 300, markdown_escape)}*"
        if used + len(heading) + 1 > budget:
            break
        section_lines = [heading]
        for paper in section.papers:
            line = _markdown_paper(paper)
            if used + sum(len(x) + 1 for x in section_lines) + len(line) + 1 > budget:
                full = True
                break
            section_lines.append(line)
        if len(section_lines) > 1:
            lines += section_lines
            used += sum(len(x) + 1 for x in section_lines)
            shown += len(section_lines) - 1
    more = _more_count(message, shown)
    if more:
        lines.append("\n" + _markdown_more(message, more))
    return {"text": "\n".join(lines)}


@dataclass
class _Embed:
    title: str
    lines: list[str]

    def description(self) -> str:
        return "\n".join(self.lines)

    def size(self) -> int:
        return len(self.title) + len(self.description())


def discord(message: Message) -> dict:
    """`content` with the title, and one embed per section (more when a section is long), within Discord's limits."""
    room = _closing_room(message, _markdown_more)
    content = f"**{fit(message.title, 300, markdown_escape)}**"
    if message.intro:
        content += "\n" + fit(message.intro, DISCORD_MAX_CONTENT - len(content) - room - 2, markdown_escape)
    embeds: list[_Embed] = []
    shown, full = 0, False

    def total() -> int:
        return sum(embed.size() for embed in embeds)

    for section in message.sections:
        if not section.papers:
            continue
        title = fit(section.heading, DISCORD_MAX_TITLE - 12, one_line)
        note = [f"*{fit(section.note, 300, markdown_escape)}*"] if section.note else []
        embed: _Embed | None = None
        for paper in section.papers:
            line = _markdown_paper(paper, "•")
            if embed is None or len(embed.description()) + 1 + len(line) > DISCORD_MAX_DESCRIPTION - room:
                if len(embeds) >= DISCORD_MAX_EMBEDS:
                    full = True
                    break
                embed = _Embed(title, list(note)) if embed is None else _Embed(f"{title} (continued)", [])
                if total() + embed.size() + 1 + len(line) > DISCORD_MAX_TOTAL - room:
                    full = True
                    break
                embeds.append(embed)
            elif total() + 1 + len(line) > DISCORD_MAX_TOTAL - room:
                full = True
                break
            embed.lines.append(line)
            shown += 1
        if full:
            break
    more = _more_count(message, shown)
    if more:
        closing = _markdown_more(message, more)
        if embeds:
            embeds[-1].lines.append(closing)
        else:
            content += "\n" + closing
    return {
        "content": content,
        "embeds": [{"title": embed.title, "description": embed.description()} for embed in embeds],
        "allowed_mentions": {"parse": []},
    }


# --- the generic JSON webhook ---


def json_body(message: Message, delivery: str, sent_at: str) -> dict:
    """Every paper, with the delivery id and time inside the signed body (docs/webhooks.md: the schema)."""
    return {
        "version": JSON_VERSION,
        "delivery": delivery,
        "event": message.event,
        "sent_at": sent_at,
        "period": message.period or None,
        "title": message.title,
        "intro": message.intro,
        "site": {"name": message.site_name, "url": message.site_url},
        "link": message.link,
        "paper_count": message.paper_count,
        "sections": [
            {
                "key": section.key,
                "heading": section.heading,
                "note": section.note,
                "papers": [
                    {
                        "id": paper.address,
                        "title": paper.title,
                        "url": paper.url,
                        "authors": paper.authors,
                        "reasons": list(paper.reasons),
                    }
                    for paper in section.papers
                ],
            }
            for section in message.sections
        ],
    }


# The chat formats by kind; the JSON body is built by the sender, which also signs it.
CHAT_FORMATS: dict[str, Callable[[Message], dict]] = {"slack": slack, "mattermost": mattermost, "discord": discord}
KINDS = ("slack", "mattermost", "discord", "json")
