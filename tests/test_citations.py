"""Citations and exports: BibTeX (the pure builder and its downloads), Highwire and Open Graph tags on paper pages,
and a member's own data as JSON."""

import json
import re
from html.parser import HTMLParser

import pytest
from conftest import digest_subscription, member, signed_in
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from paperfeed.community.models import AuthorClaim, CollectionItem, Comment
from paperfeed.community.services.collections import create_collection
from paperfeed.community.services.comments import post_comment
from paperfeed.community.services.moderation import hide_papers
from paperfeed.core import bibtex
from paperfeed.core.bibtex import BibPaper, latex_text
from paperfeed.papers.models import Author, DailyEntry, Organization, Paper, Vote
from paperfeed.recommend.models import Dismissal, LibraryItem

HOSTILE = "2606.00006"
HOSTILE_TITLE = "<script>alert('title')</script> Robustness of Parsers"


# --- a small BibTeX reader, strict where BibTeX is: entries, keys, braced fields with balanced braces ---

_ENTRY = re.compile(r"@(\w+)\{([A-Za-z0-9_:.\-]+),")
_FIELD = re.compile(r"\s*(\w+) = \{")


def parse_bib(text: str) -> list[tuple[str, str, dict[str, str]]]:
    """(type, key, fields) of every entry; an AssertionError where BibTeX would stumble."""
    entries, position = [], 0
    while (at := text.find("@", position)) >= 0:
        head = _ENTRY.match(text, at)
        assert head, f"not an entry start: {text[at : at + 40]!r}"
        fields, position = {}, head.end()
        while True:
            closing = re.compile(r"\s*\}").match(text, position)
            if closing:
                position = closing.end()
                break
            field = _FIELD.match(text, position)
            assert field, f"not a field: {text[position : position + 40]!r}"
            depth, i = 1, field.end()
            while depth:
                assert i < len(text), "a field's braces never close"
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
            assert field.group(1) not in fields, f"{field.group(1)} twice"
            fields[field.group(1)] = text[field.end() : i - 1]
            position = i
            assert text[position] == ",", "fields end with a comma"
            position += 1
        entries.append((head.group(1), head.group(2), fields))
    return entries


def balanced(value: str) -> bool:
    depth = 0
    for char in value:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def paper(title: str = "Attention Is All You Need", authors=("Ashish Vaswani", "Noam Shazeer"), **fields) -> BibPaper:
    defaults = {"arxiv_id": "1706.03762", "year": 2017, "primary_category": "cs.CL", "url": "https://arxiv.org/abs/x"}
    return BibPaper(title=title, authors=authors, **{**defaults, **fields})


# --- the pure builder ---


@pytest.mark.parametrize(
    ("title", "field"),
    [
        ("Attention Is All You Need", "Attention Is All You Need"),
        ("Sorting in $\\mathcal{O}(n \\log n)$ Time", "Sorting in $\\mathcal{O}(n \\log n)$ Time"),
        ("R&D at 100% for #1 on x_1", "R\\&D at 100\\% for \\#1 on x\\_1"),
        ("Bounds for $x_1 \\& y_{2}$ and z_3", "Bounds for $x_1 \\& y_{2}$ and z\\_3"),  # math kept as written
        ("Already \\& escaped \\_ here", "Already \\& escaped \\_ here"),
        ("\\emph{Deep} Nets and \\textbf{Trees}", "\\emph{Deep} Nets and \\textbf{Trees}"),
        ("A stray } and a { brace", "A stray and a brace"),
        ("Sets \\{x\\} and a lone \\{", "Sets \\{x\\} and a lone \\textbraceleft{}"),
        ("$\\{x$ opens a set", "$\\lbrace x$ opens a set"),
        ("It costs $5 a month", "It costs \\$5 a month"),
        ("Display $$x^2$$ and inline \\(a_b\\)", "Display $$x^2$$ and inline \\(a_b\\)"),
        ("x^2 outside math", "x\\^{}2 outside math"),
        ("Ends in a backslash \\", "Ends in a backslash \\textbackslash{}"),
        ("A control\\ space and one at the end\\ ", "A control\\ space and one at the end\\textbackslash{}"),
        ("Two\n  lines", "Two lines"),
        ("Zoë's Ünïcode 李雷", "Zoë's Ünïcode 李雷"),
    ],
)
def test_latex_text_escapes_outside_math_and_balances_braces(title, field):
    assert latex_text(title) == field
    assert balanced(latex_text(title))


@given(st.text(max_size=200))
def test_any_title_becomes_a_field_bibtex_can_read(title):
    entry = bibtex.entry(paper(title=title, authors=(title or "A. Nonymous",)))
    ((kind, _, fields),) = parse_bib(entry)
    assert kind == "misc" and balanced(fields["title"])
    assert not re.search(r"(?<!\\)(\\\\)*\\$", fields["title"])  # no backslash left to escape the closing brace


@given(st.text(alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd", "Zs")), max_size=80))
def test_plain_words_pass_unchanged(title):
    assert latex_text(title) == " ".join(title.split())


def test_an_entry_has_the_fields_arxiv_exports():
    entry = bibtex.entry(paper(doi="10.48550/arXiv.1706.03762"))
    assert entry == (
        "@misc{vaswani2017attention,\n"
        "  title = {Attention Is All You Need},\n"
        "  author = {Ashish Vaswani and Noam Shazeer},\n"
        "  year = {2017},\n"
        "  eprint = {1706.03762},\n"
        "  archivePrefix = {arXiv},\n"
        "  primaryClass = {cs.CL},\n"
        "  doi = {10.48550/arXiv.1706.03762},\n"
        "  url = {https://arxiv.org/abs/x},\n"
        "}\n"
    )


def test_a_name_with_and_stays_one_author():
    entry = bibtex.entry(paper(authors=("The ATLAS Collaboration and Friends", "Ada Lovelace")))
    assert "author = {{The ATLAS Collaboration and Friends} and Ada Lovelace}," in entry


@pytest.mark.parametrize(
    ("title", "authors", "year", "key"),
    [
        ("Attention Is All You Need", ("Ashish Vaswani",), 2017, "vaswani2017attention"),
        ("On the Origin of $\\alpha$-Species", ("Charles Darwin",), 1859, "darwin1859origin"),
        ("\\emph{The} Art of Programming", ("Donald E. Knuth Jr.",), 1968, "knuth1968art"),
        ("Cross-Lingual Retrieval", ("Zoë Müller", "José Núñez"), 2026, "muller2026cross"),
        ("Robustness", ("Mallory <b>Evil</b>",), 2026, "evil2026robustness"),
        ("检索", ("李雷",), 2026, "arxiv2026"),
        ("A Title", (), None, "arxivtitle"),
    ],
)
def test_citation_keys_are_lastname_year_word(title, authors, year, key):
    assert bibtex.citation_key(paper(title=title, authors=authors, year=year)) == key


def test_keys_are_unique_within_a_file():
    same = paper()
    assert bibtex.unique_keys([same] * 28)[:3] == [
        "vaswani2017attention",
        "vaswani2017attentionb",
        "vaswani2017attentionc",
    ]
    assert len(set(bibtex.unique_keys([same] * 28))) == 28


@pytest.mark.parametrize(
    ("arxiv_id", "year"), [("2606.00001", 2026), ("0704.0001", 2007), ("hep-th/9901001", 1999), ("math/0211159", 2002)]
)
def test_the_year_of_an_arxiv_id(arxiv_id, year):
    assert bibtex.year_from_arxiv_id(arxiv_id) == year


def test_a_bibliography_comment_never_starts_an_entry():
    text = bibtex.bibliography([paper(), paper()], comment="Reading list @ the lab\nby @ada")
    assert text.startswith("% Reading list  the lab\n% by ada\n")
    assert [key for _, key, _ in parse_bib(text)] == ["vaswani2017attention", "vaswani2017attentionb"]


# --- downloads ---

needs_db = pytest.mark.django_db


@needs_db
def test_a_papers_bibtex(client, corpus):
    response = client.get("/papers/2606.00003.bib")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-bibtex; charset=utf-8"
    assert response["Content-Disposition"] == 'inline; filename="2606.00003.bib"'
    ((kind, key, fields),) = parse_bib(response.content.decode())
    assert (kind, key) == ("misc", "hoare2026sorting")
    assert fields == {
        "title": "Sorting in $\\mathcal{O}(n \\log n)$ Time with Learned Comparators",
        "author": "Tony Hoare",
        "year": "2026",
        "eprint": "2606.00003",
        "archivePrefix": "arXiv",
        "primaryClass": "cs.DS",
        "url": "https://arxiv.org/abs/2606.00003",
    }


@needs_db
def test_bibtex_for_old_ids_versions_and_many_authors(client, corpus):
    old = client.get("/papers/hep-th/9901001.bib")
    assert old["Content-Disposition"] == 'inline; filename="hep-th_9901001.bib"'
    ((_, _, fields),) = parse_bib(old.content.decode())
    assert fields["eprint"] == "hep-th/9901001" and fields["primaryClass"] == "hep-th"
    versioned = parse_bib(client.get("/papers/2606.00005v2.bib").content.decode())
    assert versioned[0][2]["eprint"] == "2606.00005"
    ((_, key, fields),) = parse_bib(client.get("/papers/2606.00008.bib").content.decode())
    assert key == "muller2026cross"
    assert fields["author"] == "Zoë Müller and José Núñez and 李雷"  # UTF-8, in order


@needs_db
def test_a_papers_doi_goes_into_its_bibtex(client, corpus):
    Paper.objects.filter(arxiv_id="2606.00002").update(doi="10.1234/graph_{x}")
    ((_, _, fields),) = parse_bib(client.get("/papers/2606.00002.bib").content.decode())
    assert fields["doi"] == "10.1234/graph_x"


@needs_db
@pytest.mark.parametrize("url", ["/papers/2699.99999.bib", "/papers/not-an-id.bib", "/papers/.bib"])
def test_no_bibtex_for_what_is_not_here(client, corpus, url):
    assert client.get(url).status_code == 404


@needs_db
def test_no_bibtex_for_a_hidden_paper(client, corpus):
    hide_papers(Paper.objects.filter(arxiv_id=HOSTILE))
    assert client.get(f"/papers/{HOSTILE}.bib").status_code == 404


@needs_db
def test_the_paper_page_links_its_bibtex(client, corpus):
    html = client.get("/papers/2606.00003").content.decode()
    assert 'href="/papers/2606.00003.bib"' in html and ">BibTeX</a>" in html


@needs_db
def test_a_collections_bibtex_has_every_paper_once_with_unique_keys(client, corpus):
    ada = member("ada")
    collection = create_collection(ada, "Sorting & graphs", public=True)
    for arxiv_id in ("2606.00003", "2606.00002", HOSTILE):
        CollectionItem.objects.create(collection=collection, paper=Paper.objects.get(arxiv_id=arxiv_id))
    twin = Paper.objects.create(arxiv_id="2607.00001", title="Sorting in Linear Time", primary_category="cs.DS")
    twin.authorships.create(author=Author.objects.get(name="Tony Hoare"), position=0)
    CollectionItem.objects.create(collection=collection, paper=twin)
    hide_papers(Paper.objects.filter(arxiv_id=HOSTILE))
    response = client.get("/users/ada/collections/sorting-graphs.bib")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'inline; filename="sorting-graphs.bib"'
    text = response.content.decode()
    assert text.startswith("% Sorting & graphs: a collection by ada (3 papers)\n% http://testserver/users/ada/")
    entries = parse_bib(text)
    assert [fields["eprint"] for _, _, fields in entries] == ["2607.00001", "2606.00002", "2606.00003"]
    assert [key for _, key, _ in entries] == ["hoare2026sorting", "dijkstra2026graph", "hoare2026sortingb"]
    html = client.get("/users/ada/collections/sorting-graphs").content.decode()
    assert 'href="/users/ada/collections/sorting-graphs.bib"' in html


@needs_db
def test_a_private_collections_bibtex_is_its_owners_alone(corpus):
    ada = member("ada")
    collection = create_collection(ada, "Secret", public=False)
    CollectionItem.objects.create(collection=collection, paper=Paper.objects.get(arxiv_id="2606.00001"))
    owner = signed_in(ada).get("/users/ada/collections/secret.bib")
    assert owner.status_code == 200 and "lovelace2026mlp" in owner.content.decode()
    assert owner["Cache-Control"] == "private"
    assert Client().get("/users/ada/collections/secret.bib").status_code == 404
    assert signed_in(member("bob")).get("/users/ada/collections/secret.bib").status_code == 404
    assert Client().get("/users/ada/collections/nothing.bib").status_code == 404


@needs_db
def test_an_empty_collections_bibtex_says_so(client, corpus):
    create_collection(member("ada"), "Later", public=True)
    text = client.get("/users/ada/collections/later.bib").content.decode()
    assert "(no papers yet)" in text and parse_bib(text) == []


# --- citation and link-preview tags ---


class _Head(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.meta: list[tuple[str, str]] = []
        self.links: list[dict] = []

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "meta" and ("name" in found or "property" in found):
            self.meta.append((found.get("name") or found["property"], found["content"]))
        elif tag == "link":
            self.links.append(found)


def head_of(client: Client, url: str) -> _Head:
    response = client.get(url)
    assert response.status_code == 200
    head = _Head()
    head.feed(response.content.decode().split("</head>")[0])
    return head


def values(head: _Head, name: str) -> list[str]:
    return [content for key, content in head.meta if key == name]


@needs_db
def test_paper_pages_have_highwire_citation_tags(client, corpus):
    head = head_of(client, "/papers/2606.00008")
    assert values(head, "citation_title") == ["Cross-Lingual Retrieval with Small Language Models"]
    assert values(head, "citation_author") == ["Zoë Müller", "José Núñez", "李雷"]  # one each, in order
    assert values(head, "citation_publication_date") == ["2026/07/01"]
    assert values(head, "citation_date") == ["2026/07/01"]
    assert values(head, "citation_online_date") == ["2026/07/01"]
    assert values(head, "citation_arxiv_id") == ["2606.00008"]
    assert values(head, "citation_pdf_url") == ["https://arxiv.org/pdf/2606.00008"]
    assert values(head, "citation_abstract_html_url") == ["http://testserver/papers/2606.00008"]
    assert values(head, "citation_abstract")[0].startswith("We study retrieval across forty languages")
    assert values(head, "citation_doi") == []


@needs_db
def test_citation_tags_follow_the_version_doi_and_revision(client, corpus):
    Paper.objects.filter(arxiv_id="2606.00005").update(doi="10.1/x", updated="2026-08-02")
    head = head_of(client, "/papers/2606.00005v1")
    assert values(head, "citation_pdf_url") == ["https://arxiv.org/pdf/2606.00005v1"]  # the version on the page
    assert values(head, "citation_abstract_html_url") == ["http://testserver/papers/2606.00005"]
    assert values(head, "citation_online_date") == ["2026/08/02"]
    assert values(head, "citation_doi") == ["10.1/x"]
    assert {"rel": "canonical", "href": "http://testserver/papers/2606.00005"} in head.links


@needs_db
def test_paper_pages_have_open_graph_tags(client, corpus):
    head = head_of(client, "/papers/2606.00001")
    assert values(head, "og:type") == ["article"]
    assert values(head, "og:site_name") == ["paperfeed"]
    assert values(head, "og:title") == ["MLP-Mixer Revisited: Multilayer Perceptrons Are All You Need for Vision"]
    assert values(head, "og:url") == ["http://testserver/papers/2606.00001"]
    assert values(head, "twitter:card") == ["summary"]
    assert values(head, "og:description")[0].startswith("We revisit the MLP for image classification.")
    Paper.objects.filter(arxiv_id="2606.00001").update(abstract="word " * 200)
    trimmed = values(head_of(client, "/papers/2606.00001"), "og:description")[0]
    assert len(trimmed) <= 300 and trimmed.endswith("…")


@needs_db
def test_the_hostile_paper_stays_text_in_its_tags(client, corpus):
    raw = client.get(f"/papers/{HOSTILE}").content.decode().split("</head>")[0]
    assert "<script>alert" not in raw and "<img" not in raw and "<b>" not in raw
    head = _Head()
    head.feed(raw)
    assert values(head, "citation_title") == [HOSTILE_TITLE]
    assert values(head, "og:title") == [HOSTILE_TITLE]
    assert values(head, "citation_author") == ["Mallory <b>Evil</b>"]
    assert "<img src=x onerror=alert('abstract')>" in values(head, "og:description")[0]


# --- a member's own data ---


def _export(client: Client) -> dict:
    response = client.get("/accounts/export.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="paperfeed-ada-\d{4}-\d{2}-\d{2}.json"', response["Content-Disposition"])
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    return json.loads(response.content)


@needs_db
def test_the_export_needs_you_signed_in(client, corpus):
    response = client.get("/accounts/export.json")
    assert response.status_code == 302
    assert response.url == "/accounts/signin?next=/accounts/export.json"


@needs_db
def test_the_export_holds_what_you_gave_the_site_and_nobody_elses(corpus):
    from paperfeed.api.models import ApiToken

    ada, bob = member("ada"), member("bob")
    mlp, graphs, hostile = (Paper.objects.get(arxiv_id=i) for i in ("2606.00001", "2606.00002", HOSTILE))
    for user in (ada, bob):
        Vote.objects.create(user=user, paper=mlp)
        post_comment(user, graphs, f"A comment by {user.username}: $x^2$")
        day = "2026-07-02" if user is ada else "2026-07-03"
        DailyEntry.objects.create(paper=graphs, day=day, source="submission", submitted_by=user)
        collection = create_collection(user, f"{user.username}'s list", public=user is bob)
        CollectionItem.objects.create(collection=collection, paper=graphs)
        ApiToken.objects.create(user=user, name=f"{user.username} bot", digest=f"{user.username:0<64}", prefix="pf_x")
    Vote.objects.create(user=ada, paper=hostile)
    AuthorClaim.objects.create(user=ada, paper=mlp, author=Author.objects.get(name="Ada Lovelace"))
    lab = Organization.objects.create(name="Lab", slug="lab")
    subscription = digest_subscription(
        email="ada@example.org", user=ada, status="active", categories=["cs.LG"], include_keywords=["mlp"]
    )
    subscription.interests.authors.add(Author.objects.get(name="Alan Turing"))
    subscription.interests.organizations.add(lab)
    digest_subscription(email="bob@example.org", user=bob, categories=["hep-th"])
    hide_papers(Paper.objects.filter(arxiv_id=HOSTILE))
    Comment.objects.filter(author=ada).update(hidden=True)
    for user in (ada, bob):
        title = f"{user.username}'s reference"
        LibraryItem.objects.create(user=user, title=title, source_format="bibtex", source_key="k1")
        Dismissal.objects.create(user=user, paper=mlp if user is ada else graphs)

    data = _export(signed_in(ada))
    assert (data["format"], data["version"], data["site"]) == ("paperfeed user data", 5, "http://testserver")
    assert data["account"]["username"] == "ada" and data["account"]["email"] == "ada@example.org"
    assert data["profile"] == {"display_name": "", "affiliation": "", "email_verified": True, "banned": False}
    assert [(v["arxiv_id"], v.get("title")) for v in data["votes"]] == [
        ("2606.00001", mlp.title),
        (HOSTILE, None),  # hidden by a moderator since: named by its id only
    ]
    assert all(v["voted_at"] for v in data["votes"])
    ((comment,),) = [data["comments"]]
    assert comment["body"] == "A comment by ada: $x^2$" and comment["paper"]["arxiv_id"] == "2606.00002"
    assert comment["hidden_by_moderator"] is True
    assert [(s["arxiv_id"], s["day"]) for s in data["submissions"]] == [("2606.00002", "2026-07-02")]
    ((collection,),) = [data["collections"]]
    assert (collection["name"], collection["public"]) == ("ada's list", False)
    assert collection["url"] == "http://testserver/users/ada/collections/adas-list"
    assert [p["arxiv_id"] for p in collection["papers"]] == ["2606.00002"]
    assert [(c["arxiv_id"], c["author"], c["status"]) for c in data["author_claims"]] == [
        ("2606.00001", "Ada Lovelace", "pending")
    ]
    digest, interests = data["digest"], data["interests"]
    assert (digest["email"], digest["status"], interests["categories"]) == ("ada@example.org", "active", ["cs.LG"])
    assert interests["authors"] == [{"id": Author.objects.get(name="Alan Turing").id, "name": "Alan Turing"}]
    assert interests["organizations"] == [{"slug": "lab", "name": "Lab"}] and interests["include_keywords"] == ["mlp"]
    assert [t["name"] for t in data["api_tokens"]] == ["ada bot"]
    assert [(item["title"], item["source_format"]) for item in data["library"]] == [("ada's reference", "bibtex")]
    assert [d["arxiv_id"] for d in data["not_interested"]] == ["2606.00001"]
    raw = json.dumps(data)
    assert "bob" not in raw and "hep-th" not in raw  # nothing of another member's
    assert set(data["api_tokens"][0]) == {"name", "created_at", "last_used_at"}
    assert "ada0000" not in raw and "pf_x" not in raw  # neither the token's digest nor the start of its secret
    assert "password" not in raw


@needs_db
def test_the_export_of_a_new_member_is_nearly_empty(corpus):
    data = _export(signed_in(member("ada")))
    assert data["votes"] == data["comments"] == data["submissions"] == data["collections"] == []
    assert data["author_claims"] == data["api_tokens"] == data["library"] == data["not_interested"] == []
    assert data["notes"] == data["read"] == data["queue"] == []
    assert data["digest"] is None and data["interests"] is None


@needs_db
def test_settings_offer_the_download(corpus):
    html = signed_in(member("ada")).get("/accounts/settings").content.decode()
    assert 'href="/accounts/export.json"' in html and "Download your data" in html


@needs_db
def test_the_export_answers_reads_only(corpus):
    assert signed_in(member("ada")).post("/accounts/export.json").status_code == 405
