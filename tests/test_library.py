"""Library import: BibTeX, RIS and CSL JSON read into records (pure), matched to papers, kept, reported.

Bad input, each a test: malformed entries (reported by entry, the good ones imported), a huge file (a clear
message, nothing imported), a library with no matches (kept by text, and the report says so).
"""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
import test_recommend
from conftest import member, signed_in
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st
from test_recommend import CachedEmbedder, reasons, recommended_ids

from paperfeed.core import library
from paperfeed.core.library import LibraryError, bibtex_names, normalise_title, parse_library, ris_name

# The fixtures of the For you tests: the corpus plus more papers, embedded, and a data directory per test.
papers = test_recommend.papers
own_data_dir = test_recommend.own_data_dir

# --- files ---

BIBTEX = r"""
% Exported by a reference manager
@string{neurips = "Advances in Neural Information Processing Systems"}

@article{lovelace2026mlp,
  title   = {{MLP-Mixer} Revisited: Multilayer Perceptrons Are All You Need for Vision},
  author  = {Lovelace, Ada and Turing, Alan},
  year    = {2026},
  eprint  = {2606.00001v2},
  archivePrefix = {arXiv},
}

@inproceedings{broken2026,
  title = {Graph Transformers at Scale,
  year = 2026
@misc{diffusion2026,
  title = "Denoising Diffusion Models for High-Resolution Image Synthesis",
  author = "Franklin, Rosalind",
  journal = {arXiv preprint arXiv:2606.10001},
}

@article{folding,
  title = {Protein folding with geometric deep learning},
  doi = {https://doi.org/10.5555/FOLD.2026},
  booktitle = neurips,
}

@article{goedel1931,
  title = {{\"U}ber formal unentscheidbare S{\"a}tze},
  author = {G{\"o}del, Kurt},
  abstract = {We show that \emph{every} consistent system \& more.},
  year = 1931,
}
"""

RIS = """TY  - JOUR
TI  - Efficient Attention for Long Documents
AU  - Lovelace, Ada
PY  - 2026
UR  - https://arxiv.org/abs/2606.00009
ER  -

TY  - JOUR
TI  - A paper whose second line is broken
this line is not a tag
ER  -

TY  - CHAP
TI  - Sorting in O(n log n) Time with Learned Comparators
AU  - Knuth, Donald
AB  - Learned comparators sort fast.
ER  -

TY  - JOUR
TI  - An entry that never ends
"""

CSL_JSON = json.dumps(
    [
        {
            "id": "attention",
            "type": "article",
            "title": "Cross-Lingual Retrieval with Small Language Models",
            "author": [{"family": "Hopper", "given": "Grace"}],
            "issued": {"date-parts": [[2026, 7, 1]]},
            "DOI": "10.48550/arXiv.2606.00008",
        },
        {"id": "no-title", "type": "article", "URL": "https://example.org/paper.pdf"},
        {
            "id": "unknown",
            "type": "article-journal",
            "title": "Quantum error correction with surface codes on superconducting qubits",
            "abstract": "We demonstrate logical qubits below the surface code threshold.",
            "author": [{"literal": "Quantum Team"}],
        },
        ["not", "an", "object"],
        {"id": "bad-authors", "title": "Anything", "author": "Just A String"},
    ],
    indent=2,
)

BROKEN_JSON = """[
  {"id": "one", "title": "Graph Transformers at Scale"},
  {"id": "two", "title": "A title with a "bad" quote"},
  {"id": "three", "title": "Protein Folding with Geometric Deep Learning"}
]"""


# --- reading, without a database ---


def test_bibtex_entries_become_records_and_broken_ones_are_reported_by_entry():
    parsed = parse_library(BIBTEX.encode(), "refs.bib")
    assert parsed.format_name == "BibTeX" and parsed.entries == 5
    records = {r.key: r for r in parsed.records}
    assert set(records) == {"lovelace2026mlp", "diffusion2026", "folding", "goedel1931"}
    mlp = records["lovelace2026mlp"]
    assert mlp.title == "MLP-Mixer Revisited: Multilayer Perceptrons Are All You Need for Vision"
    assert mlp.authors == ("Ada Lovelace", "Alan Turing") and mlp.year == 2026 and mlp.arxiv_id == "2606.00001"
    assert records["diffusion2026"].arxiv_id == "2606.10001"  # from "arXiv preprint arXiv:…"
    assert records["folding"].doi == "10.5555/fold.2026"
    godel = records["goedel1931"]
    assert godel.title == "Über formal unentscheidbare Sätze" and godel.authors == ("Kurt Gödel",)
    assert godel.abstract == "We show that every consistent system & more."
    [problem] = parsed.problems
    assert problem.entry == 2 and problem.key == "broken2026" and problem.line == 13
    assert problem.describe().startswith("entry 2 (line 13, broken2026): it is not valid BibTeX")
    assert "is not closed" in problem.message


def test_ris_entries_are_read_one_by_one():
    parsed = parse_library(RIS.encode(), "refs.ris")
    assert parsed.format_name == "RIS" and parsed.entries == 4
    assert [r.title for r in parsed.records] == [
        "Efficient Attention for Long Documents",
        "Sorting in O(n log n) Time with Learned Comparators",
    ]
    assert parsed.records[0].arxiv_id == "2606.00009" and parsed.records[0].authors == ("Ada Lovelace",)
    assert parsed.records[1].abstract == "Learned comparators sort fast."
    assert [p.describe() for p in parsed.problems] == [
        "entry 2 (line 10): “this line is not a tag” is not a RIS line (TAG  - value)",
        "entry 4 (line 19): it has no end (an ER  - line)",
    ]


def test_csl_json_entries_are_read_and_the_odd_ones_reported():
    parsed = parse_library(CSL_JSON.encode(), "My Library.json")
    assert parsed.format_name == "CSL JSON" and parsed.entries == 5
    first, unknown = parsed.records
    assert first.arxiv_id == "2606.00008" and first.authors == ("Grace Hopper",) and first.year == 2026
    assert unknown.title.startswith("Quantum error correction") and unknown.authors == ("Quantum Team",)
    messages = [p.describe() for p in parsed.problems]
    assert messages[0].startswith("entry 2") and "no title, DOI or arXiv id" in messages[0]
    assert messages[1].startswith("entry 4") and "not a reference" in messages[1]
    assert messages[2].startswith("entry 5") and "bad-authors" in messages[2] and "not a list of people" in messages[2]


def test_a_syntax_error_in_one_json_entry_loses_only_that_entry():
    parsed = parse_library(BROKEN_JSON.encode(), "lib.json")
    assert [r.key for r in parsed.records] == ["one", "three"]
    [problem] = parsed.problems
    assert problem.entry == 2 and problem.line == 3 and "not valid JSON" in problem.message


def test_a_json_file_cut_short_keeps_what_it_holds():
    parsed = parse_library(BROKEN_JSON[:-3].encode(), "lib.json")
    assert [r.key for r in parsed.records] == ["one", "two"] or [r.key for r in parsed.records] == ["one"]
    assert any("cut short" in p.message or "not valid JSON" in p.message for p in parsed.problems)


def test_the_format_is_known_by_extension_or_by_content():
    assert parse_library(BIBTEX.encode(), "").format == "bibtex"
    assert parse_library(RIS.encode(), "export.txt").format == "ris"
    assert parse_library(CSL_JSON.encode(), "").format == "csl-json"
    latin1 = "@misc{x, title={Caf\xe9 culture and citation counts}}".encode("latin-1")
    assert parse_library(latin1, "old.bib").records[0].title == "Café culture and citation counts"


@pytest.mark.parametrize(
    "data, filename, message",
    [
        (b"", "empty.bib", "the file is empty"),
        (b"Dear reviewer, thank you.", "letter.txt", "not a library file paperfeed can read"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "picture.bib", "binary file"),
        (b'{"title": "x"', "one.json", "not valid JSON (line 1"),
        (b'"just a string"', "x.json", "should be a list of references"),
        (b"% only a comment\n", "refs.bib", "no BibTeX entries were found"),
    ],
)
def test_files_that_are_not_libraries_are_refused_whole(data, filename, message):
    with pytest.raises(LibraryError, match=re.escape(message)):
        parse_library(data, filename)


def test_a_huge_file_is_refused_with_the_limit_in_the_message():
    huge = b"@misc{x, title={" + b"a" * library.MAX_BYTES + b"}}"
    with pytest.raises(LibraryError, match=r"the file is 5\.0 MB; the limit is 5 MB"):
        parse_library(huge, "huge.bib")


def test_too_many_entries_are_refused_with_the_limit_in_the_message(monkeypatch):
    monkeypatch.setattr(library.records, "MAX_ENTRIES", 3)
    four = "".join(f"@misc{{k{i}, title={{Paper number {i}}}}}\n" for i in range(4))
    with pytest.raises(LibraryError, match="more than 3 entries"):
        parse_library(four.encode(), "refs.bib")


def test_titles_are_normalised_for_matching():
    assert normalise_title(r"{MLP-Mixer} Revisited: {$\mathcal{O}(n)$} Are All—You Need!") == (
        "mlp mixer revisited o n are all you need"
    )
    assert normalise_title(r"\"{U}ber S{\"a}tze") == normalise_title("Über Sätze") == "uber satze"
    assert normalise_title("  Graph   Transformers\nat Scale. ") == "graph transformers at scale"


def test_bibtex_names_are_split_by_bibtexparser_as_bibtex_does():
    assert bibtex_names("{Research and Development Team} and Lovelace, Ada") == [
        "Research and Development Team",  # braces keep a corporate author whole: the old regex made two names
        "Ada Lovelace",
    ]
    assert bibtex_names("von Neumann, Jr., John and Ludwig van Beethoven and Brinch Hansen, Per") == [
        "John von Neumann Jr.",  # von Last, Jr, First
        "Ludwig van Beethoven",  # First von Last
        "Per Brinch Hansen",  # a two-word last name before the comma
    ]
    assert bibtex_names(r"G{\"o}del, Kurt and Erd{\H o}s, P\'al and Nguy\~{\^e}n, V\u{a}n and others") == [
        "Kurt Gödel",
        "Pál Erdős",
        "Văn Nguyễn",
    ]  # "and others" is BibTeX's et al., not a person
    assert bibtex_names("Donald E. Knuth AND Leslie~Lamport") == ["Donald E. Knuth", "Leslie Lamport"]
    assert bibtex_names(r"Pe\~na, Ana and Nu\~{n}ez, Jos\'e") == ["Ana Peña", "José Nuñez"]  # \~ is an accent, ~ a tie
    assert bibtex_names("Smith, {John") == ["John Smith"]  # an unclosed brace is read as well as it can
    assert bibtex_names("  ") == []


def test_a_bibtex_file_keeps_corporate_authors_whole_and_reads_latex_with_the_one_converter():
    data = r"""@article{team,
  title = {\textit{Deep} Learning for Vi\d{\^e}t Text},
  author = {{Research and Development Team} and Nguy\~{\^e}n, V\u{a}n and others},
  abstract = {We train \emph{small} models: $\mathcal{O}(n)$ time, 50\% fewer errors.},
}"""
    [record] = parse_library(data.encode(), "team.bib").records
    assert record.title == "Deep Learning for Việt Text"
    assert record.authors == ("Research and Development Team", "Văn Nguyễn")
    assert record.abstract == r"We train small models: $\mathcal{O}(n)$ time, 50% fewer errors."


def test_ris_names_are_last_first_suffix():
    assert ris_name("Lovelace, Ada") == "Ada Lovelace"
    assert ris_name("King, Martin Luther, Jr.") == "Martin Luther King Jr."
    assert ris_name("Quantum Team") == "Quantum Team"
    assert ris_name(r"G{\"o}del, Kurt") == "Kurt Gödel"


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(["a.bib", "a.ris", "a.json", "a.txt", ""]))
def test_any_bytes_give_records_problems_or_a_library_error_never_a_crash(data, filename):
    try:
        parsed = parse_library(data, filename)
    except LibraryError as error:
        assert str(error)
    else:
        assert parsed.entries == len(parsed.records) + len(parsed.problems) >= 1


@settings(max_examples=100, deadline=None)
@given(st.text(st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]), max_size=300))
def test_any_text_in_a_bibtex_title_is_read_or_reported(title):
    data = ("@misc{k, title={" + title + "}}\n@misc{ok, title={A good title}}\n").encode()
    parsed = parse_library(data, "a.bib")
    assert parsed.entries >= 1


# --- importing, with the database ---


def upload(client, name: str, content: str | bytes):
    data = content.encode() if isinstance(content, str) else content
    return client.post("/for-you/library", {"file": SimpleUploadedFile(name, data)})


def page_text(response) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<.*?>", " ", response.content.decode())))


def test_a_bibtex_import_matches_by_arxiv_id_and_title_keeps_the_rest_and_reports_the_broken_entry(papers):
    from paperfeed.recommend.models import LibraryItem

    user = member()
    response = upload(signed_in(user), "refs.bib", BIBTEX)
    assert response.status_code == 200
    text = page_text(response)
    assert "Imported refs.bib (BibTeX)" in text
    assert "3 of 5 entries matched papers on this site" in text
    assert "1 is kept by their title and abstract" in text
    assert "entry 2 (line 13, broken2026): it is not valid BibTeX" in text
    assert "2 by arXiv id, 1 by title" in text
    items = {i.source_key: i for i in LibraryItem.objects.filter(user=user)}
    assert items["lovelace2026mlp"].paper.arxiv_id == "2606.00001"
    assert items["diffusion2026"].paper.arxiv_id == "2606.10001"
    assert items["folding"].paper.arxiv_id == "2606.00010"  # "Protein folding with geometric deep learning"
    assert items["goedel1931"].paper is None and items["goedel1931"].source_format == "bibtex"


def test_a_ris_import_reports_each_broken_entry_and_imports_the_good_ones(papers):
    from paperfeed.recommend.models import LibraryItem

    user = member()
    text = page_text(upload(signed_in(user), "refs.ris", RIS))
    assert "2 of 4 entries matched papers on this site" in text
    assert "2 entries could not be read" in text
    assert "entry 2 (line 10): “this line is not a tag” is not a RIS line" in text
    assert "entry 4 (line 19): it has no end" in text
    matched = set(LibraryItem.objects.filter(user=user).values_list("paper__arxiv_id", flat=True))
    assert matched == {"2606.00009", "2606.00003"}


def test_a_csl_json_import_matches_by_arxiv_doi_and_keeps_unknown_papers_by_text(papers):
    from paperfeed.recommend.models import LibraryItem

    user = member()
    text = page_text(upload(signed_in(user), "My Library.json", CSL_JSON))
    assert "1 of 5 entries matched papers on this site" in text
    assert "1 is kept by their title and abstract" in text
    assert "3 entries could not be read" in text
    kept = LibraryItem.objects.get(user=user, paper__isnull=True)
    assert kept.title.startswith("Quantum error correction") and kept.source_format == "csl-json"


def test_a_paper_is_matched_by_its_doi(papers):
    from paperfeed.papers.models import Paper
    from paperfeed.recommend.models import LibraryItem

    Paper.objects.filter(arxiv_id="2606.00002").update(doi="10.1145/Graph.2026")
    user = member()
    text = page_text(
        upload(signed_in(user), "a.ris", "TY  - JOUR\nTI  - Some other title\nDO  - 10.1145/graph.2026\nER  - \n")
    )
    assert "1 of 1 entry matched papers on this site" in text and "1 by DOI" in text
    assert LibraryItem.objects.get(user=user).paper.arxiv_id == "2606.00002"


def test_a_library_with_no_matches_is_kept_by_text_and_the_report_says_so(papers):
    from paperfeed.recommend.models import LibraryItem

    user = member()
    unknown = "".join(
        f"@article{{q{i}, title={{Quantum topic number {i} on superconducting qubits}}, "
        f"abstract={{Surface codes and logical qubits, part {i}.}}}}\n"
        for i in range(3)
    )
    response = upload(signed_in(user), "quantum.bib", unknown)
    text = page_text(response)
    assert "0 of 3 entries matched papers on this site; 3 are kept by their title and abstract" in text
    assert "read in the background" in text
    assert LibraryItem.objects.filter(user=user, paper__isnull=True).count() == 3


def test_unmatched_items_count_once_embedded_and_reasons_name_them(papers):
    from paperfeed.recommend.services import training

    user = member()
    upload(
        signed_in(user),
        "mine.bib",
        "@article{d, title={Diffusion models that generate images by iterative denoising}, "
        "abstract={A denoising diffusion probabilistic model reverses a noising process to synthesise images.}}",
    )
    client = signed_in(user)
    waiting = client.get("/for-you")
    assert "1 item of your library is still being read" in waiting.content.decode()
    assert "Nothing to go by yet" in waiting.content.decode()
    assert training.embed_library_items(CachedEmbedder()) == 1
    response = client.get("/for-you")
    ids = recommended_ids(response)
    assert ids[0] in {"2606.10001", "2606.10002", "2606.10003", "2606.10004"}
    assert (
        reasons(response)[0]
        == "Because your library has “Diffusion models that generate images by iterative denoising”"
    )
    assert '<p class="reason">Because your library has “' in response.content.decode()  # named, not linked


def test_matched_library_items_are_positives_left_out_and_linked_in_reasons(papers):
    user = member()
    upload(signed_in(user), "refs.bib", BIBTEX)
    response = signed_in(user).get("/for-you")
    ids = recommended_ids(response)
    assert not {"2606.00001", "2606.10001", "2606.00010"} & set(ids)
    assert any(r.startswith("Because your library has") for r in reasons(response))
    assert re.search(r'Because your library has <a href="/papers/2606\.', response.content.decode())


def test_importing_the_same_file_twice_adds_nothing_the_second_time(papers):
    from paperfeed.recommend.models import LibraryItem

    client = signed_in(member())
    upload(client, "refs.bib", BIBTEX)
    count = LibraryItem.objects.count()
    text = page_text(upload(client, "refs.bib", BIBTEX))
    assert "0 of 5 entries matched" in text and "4 were already in your library" in text
    assert LibraryItem.objects.count() == count


def test_a_huge_upload_gets_a_clear_message_and_nothing_is_imported(papers):
    from paperfeed.recommend.models import LibraryItem

    huge = b"@misc{x, title={" + b"a" * (5 * 1024 * 1024) + b"}}"
    response = upload(signed_in(member()), "huge.bib", huge)
    assert response.status_code == 413
    text = page_text(response)
    assert "huge.bib is 5.0 MB; the limit is 5 MB" in text and "Nothing was imported" in text
    assert not LibraryItem.objects.exists()


def test_an_unreadable_upload_gets_a_clear_message_and_nothing_is_imported(papers):
    from paperfeed.recommend.models import LibraryItem

    response = upload(signed_in(member()), "notes.txt", b"Just some notes, not references.")
    assert response.status_code == 400
    assert "notes.txt: this is not a library file paperfeed can read" in page_text(response)
    assert not LibraryItem.objects.exists()


def test_an_upload_without_a_file_asks_for_one(db):
    response = signed_in(member()).post("/for-you/library", {})
    assert response.status_code == 400 and "Choose a file to import" in page_text(response)


def test_imports_are_rate_limited(papers, monkeypatch):
    from datetime import timedelta

    from paperfeed.community.services import throttle
    from paperfeed.recommend.views import library as library_views

    monkeypatch.setattr(library_views, "IMPORTS_PER_USER", throttle.Limit("library-import", 1, timedelta(hours=1)))
    client = signed_in(member())
    assert upload(client, "a.bib", "@misc{a, title={First import title}}").status_code == 200
    refused = upload(client, "b.bib", "@misc{b, title={Second import title}}")
    assert refused.status_code == 429 and "Try again in" in page_text(refused)


def test_the_library_pages_need_a_signed_in_user(db):
    assert Client().get("/for-you/library")["Location"].startswith("/accounts/signin")
    assert Client().post("/for-you/library/clear")["Location"].startswith("/accounts/signin")


def test_the_library_can_be_removed(papers):
    from paperfeed.recommend.models import LibraryItem

    user = member()
    client = signed_in(user)
    upload(client, "refs.bib", BIBTEX)
    assert "Your library holds 4 items, 3 of them matched" in page_text(client.get("/for-you/library"))
    response = client.post("/for-you/library/clear")
    assert response.status_code == 303
    assert not LibraryItem.objects.filter(user=user).exists()
    assert "Removed 4 imported library items." in page_text(client.get(response["Location"]))


def test_the_settings_page_has_the_import_form(db):
    page = signed_in(member()).get("/accounts/settings").content.decode()
    assert 'action="/for-you/library"' in page and 'enctype="multipart/form-data"' in page
    assert 'type="file" name="file"' in page


# --- the command ---


def test_the_command_imports_embeds_refits_and_exits_1_when_entries_were_broken(papers, tmp_path, capsys):
    from paperfeed.recommend.models import LibraryItem, UserModelState

    user = member()
    path = tmp_path / "refs.bib"
    path.write_text(BIBTEX)
    with pytest.raises(SystemExit) as exit_:
        call_command("import-library".replace("-", "_"), "ada", str(path))
    assert exit_.value.code == 1
    out, err = capsys.readouterr()
    assert f"{path}: entry 2 (line 13, broken2026): it is not valid BibTeX" in err
    assert "3 of 5 entries matched papers on this site" in out
    assert "Embedded the title and abstract of 1 unmatched entries." in out
    assert LibraryItem.objects.filter(user=user, embedding__isnull=False).count() == 1
    assert UserModelState.objects.get(user=user).positives == 4


def test_the_command_exits_0_when_all_went_in(papers, tmp_path, capsys):
    path = tmp_path / "one.ris"
    path.write_text("TY  - JOUR\nTI  - Efficient Attention for Long Documents\nER  - \n")
    member()
    call_command("import_library", "ada@example.org", str(path), "--no-embed")
    assert "1 of 1 entry matched papers on this site." in capsys.readouterr().out


@pytest.mark.parametrize(
    "setup, message",
    [
        ("unknown-user", "there is no user 'nobody'"),
        ("missing-file", "cannot read"),
        ("not-a-library", "this is not a library file paperfeed can read"),
        ("huge", "the limit is 5 MB"),
    ],
)
def test_the_command_exits_2_when_nothing_can_be_imported(db, tmp_path, setup, message):
    from django.core.management.base import CommandError

    from paperfeed.recommend.models import LibraryItem

    member()
    path = tmp_path / "lib.bib"
    if setup == "not-a-library":
        path = tmp_path / "lib.txt"
        path.write_text("hello")
    elif setup == "huge":
        path.write_bytes(b"@misc{x, title={" + b"a" * (5 * 1024 * 1024) + b"}}")
    elif setup == "unknown-user":
        path.write_text("@misc{x, title={A title long enough}}")
    user = "nobody" if setup == "unknown-user" else "ada"
    with pytest.raises(CommandError, match=re.escape(message)) as error:
        call_command("import_library", user, str(path))
    assert error.value.returncode == 2
    assert not LibraryItem.objects.exists()


# --- the background ---


def test_the_upkeep_embeds_new_library_entries_matches_late_papers_and_refits(papers, tmp_path):
    from paperfeed.papers.models import Paper
    from paperfeed.papers.services.embedding import embed_pending
    from paperfeed.papers.services.loading import load_jsonl
    from paperfeed.recommend.models import LibraryItem, UserModelState
    from paperfeed.recommend.services.training import background_pass

    user = member()
    upload(
        signed_in(user),
        "later.ris",
        "TY  - JOUR\nTI  - A paper this site does not have yet\nUR  - https://arxiv.org/abs/2607.00042\nER  -\n\n"
        "TY  - JOUR\nTI  - Denoising diffusion for image generation\nAB  - Diffusion models make images.\nER  -\n",
    )
    assert LibraryItem.objects.filter(user=user, paper__isnull=True).count() == 2
    arriving = tmp_path / "late.jsonl"
    arriving.write_text(json.dumps(test_recommend.paper_row("2607.00042", "Arrived later", "An abstract.", ["cs.LG"])))
    load_jsonl(arriving)

    run = background_pass(CachedEmbedder())  # what the worker's upkeep task does after its embedding

    assert (run.refitted, run.embedded_items) == (1, 1)
    late = LibraryItem.objects.get(user=user, arxiv_id="2607.00042")
    assert late.paper == Paper.objects.get(arxiv_id="2607.00042")
    assert LibraryItem.objects.get(user=user, paper__isnull=True).embedding is not None
    assert UserModelState.objects.get(user=user).positives == 1  # the late paper has no embedding yet
    run = background_pass(CachedEmbedder())
    assert (run.refitted, run.embedded_items, run.removed) == (0, 0, 0)  # nothing changed: nothing done
    embed_pending(CachedEmbedder())  # the upkeep's own first step: the late paper gets its embedding, then counts
    background_pass(CachedEmbedder())
    assert UserModelState.objects.get(user=user).positives == 2
