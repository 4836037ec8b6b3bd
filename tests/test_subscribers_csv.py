"""`paperfeed subscribers import|export`: lists moving in and out as CSV, bad lines reported, nothing half-written."""

import io

import pytest
from conftest import digest_subscription
from django.core.management import call_command
from django.core.management.base import CommandError

from paperfeed.digests.models import Subscription
from paperfeed.digests.services.subscribers import join_keywords, split_keywords

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("subscribers", *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exit:
        status = exit.code
    return status, out.getvalue(), err.getvalue()


def write(tmp_path, text: str, name: str = "list.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def subscriptions() -> dict[str, Subscription]:
    return {s.email: s for s in Subscription.objects.select_related("interests")}


def test_a_list_confirmed_elsewhere_is_imported_active(tmp_path):
    path = write(
        tmp_path,
        "\ufeffemail,frequency,categories,keywords\r\n"  # as Excel saves it: a BOM and CRLF line ends
        "Ada@Example.org,daily,cs.cl cs.LG,retrieval augmented generation; long context\r\n"
        "alan@example.org,WEEKLY,hep-th;math.ap,diffusion robotics\r\n"
        "grace@example.org,daily,,\r\n",
    )
    status, out, err = run("import", str(path))
    assert (status, err) == (0, "")
    assert out.strip() == "3 new subscribers imported, 0 existing updated."
    found = subscriptions()
    ada = found["ada@example.org"]
    assert (ada.status, ada.source, ada.frequency) == ("active", "import", "daily")
    assert ada.confirmed_at is not None
    assert ada.interests.categories == ["cs.CL", "cs.LG"]
    assert ada.interests.saved_searches == [
        {"q": "retrieval augmented generation", "mode": "keyword"},
        {"q": "long context", "mode": "keyword"},
    ]
    alan = found["alan@example.org"]
    assert alan.frequency == "weekly" and alan.interests.categories == ["hep-th", "math.AP"]
    assert [s["q"] for s in alan.interests.saved_searches] == ["diffusion", "robotics"]  # no semicolon: spaces separate
    assert (
        found["grace@example.org"].interests.categories == []
        and found["grace@example.org"].interests.saved_searches == []
    )


def test_bad_lines_are_reported_by_number_and_the_good_ones_imported(tmp_path):
    path = write(
        tmp_path,
        "email,frequency,categories,keywords\n"
        "ada@example.org,daily,cs.LG,\n"  # 2: good
        "not-an-address,daily,cs.LG,\n"  # 3
        "alan@example.org,hourly,cs.LG,\n"  # 4
        "grace@example.org,daily,cs.XX..,\n"  # 5
        "linus@example.org,daily,biology,\n"  # 6
        "ADA@example.org,weekly,,\n"  # 7: the same address as line 2
        '"mallory@example.org\nBcc: evil@example.org",daily,,\n'  # 8-9: a line break inside a quoted cell
        "edsger@example.org,daily\n"  # 10: a cell short
        'barbara@example.org,daily,cs.DS,"sorting\r\nBcc: x@example.org"\n'  # 11-12: CR/LF in a keyword
        "\n"  # 13: blank lines are skipped quietly
        "frances@example.org,weekly,cs.PL,compilers\n",  # 14: good
    )
    status, out, err = run("import", str(path))
    assert status == 1
    assert err.splitlines() == [
        f"{path}:3: “not-an-address” is not an email address. Check it: it should look like ada@example.org",
        f"{path}:4: the frequency must be daily or weekly, not “hourly”",
        f"{path}:5: “cs.XX..” is not an arXiv category (write them as cs.CL, math.AP or hep-th, separated by spaces "
        "or semicolons)",
        f"{path}:6: “biology” is not an arXiv category (write them as cs.CL, math.AP or hep-th, separated by spaces "
        "or semicolons)",
        f"{path}:7: ada@example.org is already on line 2; this line is skipped",
        f"{path}:8: a cell holds a line break or another control character",
        f"{path}:10: has 2 cells, but the header names 4 columns",
        f"{path}:11: a cell holds a line break or another control character",
    ]
    assert out.strip() == "2 new subscribers imported, 0 existing updated, 8 lines skipped."
    assert sorted(subscriptions()) == ["ada@example.org", "frances@example.org"]
    assert subscriptions()["ada@example.org"].frequency == "daily"


def test_an_existing_subscriber_is_updated_not_duplicated_and_an_unsubscribed_one_left_alone(tmp_path):
    digest_subscription(email="ada@example.org", status="pending", categories=["cs.AI"], hour=6)
    digest_subscription(email="alan@example.org", status="unsubscribed")
    digest_subscription(email="grace@example.org", status="active", categories=["cs.PL"])
    path = write(
        tmp_path,
        "email,frequency,categories\nada@example.org,weekly,cs.CL\nalan@example.org,daily,cs.LG\ngrace@example.org,daily\n",
    )
    path.write_text(path.read_text().replace("grace@example.org,daily\n", "grace@example.org,daily,\n"))
    status, out, err = run("import", str(path))
    assert status == 1
    assert f"{path}:2: ada@example.org was already subscribed: updated" in out
    assert f"{path}:4: grace@example.org was already subscribed: updated" in out
    assert err.strip() == (
        f"{path}:3: alan@example.org unsubscribed here; left as is (only its owner can subscribe again)"
    )
    assert Subscription.objects.count() == 3
    ada = subscriptions()["ada@example.org"]
    assert (ada.status, ada.frequency, ada.interests.categories, ada.hour) == ("active", "weekly", ["cs.CL"], 6)
    assert subscriptions()["alan@example.org"].status == "unsubscribed"
    assert subscriptions()["grace@example.org"].interests.categories == []


def test_a_file_without_the_header_imports_nothing(tmp_path):
    for text, problem in [
        ("ada@example.org,daily\n", "unknown column “ada@example.org”, “daily”"),
        ("email,categories\nada@example.org,cs.LG\n", "no frequency column"),
        ("email,frequency,frequency\n", "the column frequency appears twice"),
        ("", "the file is empty"),
    ]:
        path = write(tmp_path, text)
        with pytest.raises(CommandError) as raised:
            run("import", str(path))
        assert raised.value.returncode == 2
        assert str(raised.value).startswith(f"{path}: ") and problem in str(raised.value)
        assert str(raised.value).endswith("Nothing was imported.")
    assert not Subscription.objects.exists()


def test_a_file_that_is_missing_or_not_utf8_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run("import", str(tmp_path / "missing.csv"))
    path = write(tmp_path, "email,frequency\nzoë@example.org,daily\n", encoding="latin-1")
    with pytest.raises(CommandError, match=r"list.csv: line 2 is not UTF-8 text; save the file as UTF-8 CSV"):
        run("import", str(path))
    assert not Subscription.objects.exists()


def test_export_writes_the_active_subscribers_in_a_form_import_reads_back(tmp_path):
    digest_subscription(
        email="ada@example.org",
        status="active",
        frequency="weekly",
        categories=["cs.CL", "cs.LG"],
        saved_searches=[{"q": "long context", "mode": "hybrid"}],
    )
    digest_subscription(
        email="alan@example.org",
        status="active",
        saved_searches=[{"q": "-survey transformers", "mode": "keyword"}, {"q": "=cmd|x", "mode": "keyword"}],
    )
    digest_subscription(email="grace@example.org", status="unsubscribed", categories=["cs.PL"])
    digest_subscription(email="linus@example.org", status="pending")
    exported = tmp_path / "out.csv"
    status, out, _ = run("export", "--output", str(exported))
    assert status == 0 and out.strip() == f"2 active subscribers written to {exported}."
    assert exported.read_text() == (
        "email,frequency,categories,keywords,status\n"
        "ada@example.org,weekly,cs.CL cs.LG,long context;,active\n"
        "alan@example.org,daily,,'-survey transformers; =cmd|x,active\n"  # a spreadsheet must not run it
    )
    before = {
        e: (s.frequency, s.interests.categories, [q["q"] for q in s.interests.saved_searches])
        for e, s in subscriptions().items()
    }

    Subscription.objects.all().delete()
    status, out, err = run("import", str(exported))
    assert (status, err) == (0, "") and out.strip() == "2 new subscribers imported, 0 existing updated."
    after = {
        e: (s.frequency, s.interests.categories, [q["q"] for q in s.interests.saved_searches])
        for e, s in subscriptions().items()
    }
    assert after == {e: v for e, v in before.items() if e in ("ada@example.org", "alan@example.org")}


def test_export_to_standard_output(tmp_path):
    digest_subscription(email="ada@example.org", status="active")
    status, out, err = run("export")
    assert out == "email,frequency,categories,keywords,status\nada@example.org,daily,,,active\n"
    assert err.strip() == "1 active subscriber exported."


def test_keywords_split_on_semicolons_else_on_spaces_and_join_back():
    assert split_keywords("deep learning; robotics") == ["deep learning", "robotics"]
    assert split_keywords("deep learning") == ["deep", "learning"]
    assert split_keywords("deep learning;") == ["deep learning"]
    for keywords in (["deep learning"], ["deep learning", "robotics"], ["mlp"], []):
        assert split_keywords(join_keywords(keywords)) == keywords
