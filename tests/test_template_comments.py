"""Django's `{# … #}` comments end on their own line: one that runs on is printed on the page as text (the footer
of every page once showed its own comment). Multi-line comments are `{% comment %}` blocks."""

import re
from pathlib import Path

import pytest

TEMPLATES = sorted((Path(__file__).parent.parent / "src" / "paperfeed").glob("*/templates/**/*.html"))


def test_there_are_templates_to_check():
    assert len(TEMPLATES) > 30


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_short_comment_ends_on_its_line(template):
    for number, line in enumerate(template.read_text().splitlines(), start=1):
        unclosed = re.search(r"\{#(?!.*#\})", line)
        assert unclosed is None, f"{template.name}:{number}: a {{# comment runs past its line: use {{% comment %}}"


@pytest.mark.django_db
def test_no_template_syntax_reaches_a_page(client, corpus):
    for url in ("/", "/?date=2026-06-30", "/papers/2606.00001", "/search?q=mlp", "/trending"):
        html = client.get(url).content.decode()
        assert "{#" not in html and "#}" not in html and "{%" not in html, url
