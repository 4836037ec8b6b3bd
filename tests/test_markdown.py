"""Comment Markdown: LaTeX kept whole for KaTeX, and nothing a writer types can become script."""

import re

import pytest

from paperfeed.core.markdown import MAX_CHARS, MarkdownTooLong, render_markdown, sanitize_html

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(1)">',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](  javascript:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "<javascript:alert(1)>",
    "[x][r]\n\n[r]: javascript:alert(1)",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    "![x](http://evil.example/pixel.gif)",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "$<script>alert(1)</script>$",
    "$$\n</div><script>alert(1)</script>\n$$",
    "$x$<img src=x onerror=alert(1)>",
    '<p style="position:fixed;top:0">overlay</p>',
    '<span style="background:url(javascript:alert(1))">x</span>',
    '<iframe src="https://evil.example"></iframe>',
    "<object data=x></object><embed src=x>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<details open ontoggle=alert(1)>",
    '<div class="math block" onclick="alert(1)">x</div>',
    '[x](http://a.example/"onmouseover=alert(1))',
    '[x](http://a.example/ "title" onmouseover=alert(1))',
    "<!-- <script>alert(1)</script> -->",
    "```html\n<script>alert(1)</script>\n```",
    "`<script>alert(1)</script>`",
    "<form action=https://evil.example><input name=password></form>",
    "<base href=https://evil.example/>",
    "<meta http-equiv=refresh content='0;url=https://evil.example'>",
    "<style>body{display:none}</style>",
    "\u0000<script>alert(1)</script>",
]


def inert(html: str) -> bool:
    lowered = html.lower()
    tags = re.findall(r"<\s*([a-z0-9]+)", lowered)
    forbidden = {"script", "img", "svg", "iframe", "object", "embed", "style", "form", "input", "base", "meta", "math"}
    return (
        not forbidden.intersection(tags)
        and not re.search(r"<[^>]*\son[a-z]+\s*=", lowered)  # no event handler attribute on any tag
        and not re.search(r"<[^>]*\sstyle\s*=", lowered)
        and not re.search(r"""<[^>]*\shref\s*=\s*["']?\s*(javascript|vbscript|data):""", lowered)
    )


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_markdown_comes_out_inert(payload):
    assert inert(render_markdown(payload)), render_markdown(payload)


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_markdown_inside_a_sentence_and_a_list_stays_inert(payload):
    html = render_markdown(f"Look at this: {payload}\n\n- {payload}\n\n> {payload}")
    assert inert(html), html


def test_the_inert_check_catches_what_it_should():
    # The check the payload tests lean on must fail on live markup, or those tests could never fail.
    for live in [
        "<script>x</script>",
        '<img src="x" onerror="y">',
        '<a href="javascript:x">a</a>',
        '<p style="x">y</p>',
        '<a href="x" onclick="y">z</a>',
    ]:
        assert not inert(live), live


def test_raw_html_is_shown_as_text():
    html = render_markdown("<b>bold?</b> <script>alert(1)</script>")
    assert "&lt;b&gt;bold?&lt;/b&gt;" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_sanitizer_alone_strips_what_markdown_would_never_make():
    # Defence in depth: even HTML that did not come from the Markdown renderer is cleaned.
    html = sanitize_html(
        '<p onclick="x" style="color:red">a<script>alert(1)</script></p>'
        '<a href="javascript:alert(1)">j</a><a href="/relative">r</a><img src=x onerror=y>'
        '<span class="math inline evil">\\(x\\)</span><div class="math block" id="x">\\[y\\]</div>'
        "<iframe src=https://evil.example></iframe><h1>big</h1>"
    )
    assert inert(html)
    assert "alert(1)" not in html  # the script's content goes with it
    assert 'href="/relative"' not in html and "javascript" not in html
    assert '<span class="math inline">' in html and '<div class="math block">' in html
    assert "evil" not in html and 'id="x"' not in html
    assert "<h1>" not in html and "big" in html


def test_latex_survives_intact():
    html = render_markdown("Here $a_1 * b_2$ and $c_3 * d_4$ stay maths, not *emphasis*.")
    assert r'<span class="math inline">\(a_1 * b_2\)</span>' in html
    assert r'<span class="math inline">\(c_3 * d_4\)</span>' in html
    assert "<em>emphasis</em>" in html
    assert html.count("<em>") == 1


def test_display_maths_on_its_own_lines_is_a_block():
    html = render_markdown("Consider\n\n$$\n\\sum_{i=1}^n x_i < \\frac{a}{b}\n$$\n\nas shown.")
    assert '<div class="math block">' in html
    assert r"\[\sum_{i=1}^n x_i &lt; \frac{a}{b}\]" in html


def test_display_maths_inside_a_sentence_stays_in_the_paragraph():
    html = render_markdown("so $$x^2 + y^2$$ holds")
    assert html == r'<p>so <span class="math display">\[x^2 + y^2\]</span> holds</p>'


def test_latex_with_markdown_characters_and_html_characters():
    html = render_markdown(r"$\mathcal{L} = \|x\|_2^2 + [a](b) < c$ and $\text{<b>}$")
    assert r"\(\mathcal{L} = \|x\|_2^2 + [a](b) &lt; c\)" in html
    assert r"\(\text{&lt;b&gt;}\)" in html
    assert "<a " not in html and "<b>" not in html


def test_money_is_not_maths():
    html = render_markdown("It cost $5 and then $10 more.")
    assert "math" not in html
    assert "It cost $5 and then $10 more." in html


def test_maths_in_code_is_code():
    html = render_markdown("`$x$` and\n\n```\n$$y$$\n```")
    assert "<code>$x$</code>" in html
    assert "<pre><code>$$y$$\n</code></pre>" in html
    assert "math" not in html


def test_links_get_rel_and_only_web_and_mail_addresses_become_links():
    html = render_markdown(
        "[paper](https://arxiv.org/abs/2606.00001) <https://example.org> [mail](mailto:a@example.org) "
        "[ftp](ftp://example.org/x) [local](/papers/2606.00001)"
    )
    assert '<a href="https://arxiv.org/abs/2606.00001" rel="nofollow noopener ugc">paper</a>' in html
    assert '<a href="https://example.org" rel="nofollow noopener ugc">https://example.org</a>' in html
    assert '<a href="mailto:a@example.org" rel="nofollow noopener ugc">mail</a>' in html
    # Any other link stays the text the writer typed, so they can see it did not work.
    assert "[ftp](ftp://example.org/x)" in html and "[local](/papers/2606.00001)" in html
    assert html.count("<a ") == 3


def test_images_are_not_embedded_but_linked():
    html = render_markdown("![a figure](https://example.org/fig.png)")
    assert "<img" not in html
    assert '<a href="https://example.org/fig.png" rel="nofollow noopener ugc">a figure</a>' in html


def test_common_markdown_renders():
    html = render_markdown(
        "# Title\n\n## Section\n\n**bold** *italic* ~~struck~~ `code`\n\n"
        "- one\n- two\n\n3. three\n4. four\n\n> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n---\n\nline  \nbreak"
    )
    for part in [
        "<h3>Title</h3>",
        "<h4>Section</h4>",
        "<strong>bold</strong>",
        "<em>italic</em>",
        "<s>struck</s>",
        "<code>code</code>",
        "<li>one</li>",
        '<ol start="3">',
        "<blockquote>",
        "<table>",
        "<th>a</th>",
        "<td>2</td>",
        "<hr>",
        "line<br>",
    ]:
        assert part in html, part


def test_headings_never_outrank_the_page():
    html = render_markdown("# a\n\n###### f")
    assert "<h3>a</h3>" in html and "<h6>f</h6>" in html
    assert not re.search(r"<h[12]", html)


def test_a_body_at_the_limit_is_fine_and_one_more_character_is_refused():
    assert render_markdown("x" * MAX_CHARS) == f"<p>{'x' * MAX_CHARS}</p>"
    with pytest.raises(MarkdownTooLong) as refused:
        render_markdown("x" * (MAX_CHARS + 1))
    assert str(refused.value) == (
        "A comment can be at most 10,000 characters long; this one has 10,001. Shorten it and try again."
    )


@pytest.mark.parametrize("pathological", ["[" * 10_000, "*a " * 3_333, "> " * 5_000, "$a" * 5_000, "<" * 10_000])
def test_pathological_input_renders_quickly(pathological):
    import time

    started = time.perf_counter()
    render_markdown(pathological)
    assert time.perf_counter() - started < 2
