"""Organization and author pages, authorship claims, and the admin actions that attach papers and decide claims."""

from datetime import date, timedelta
from html import unescape

import pytest
from conftest import card_titles as titles
from conftest import member, signed_in
from django.test import Client
from django.utils import timezone

from paperfeed.community.models import AuthorClaim
from paperfeed.community.services.people import MAX_PENDING_CLAIMS
from paperfeed.papers.models import Author, Authorship, Organization, Paper

pytestmark = pytest.mark.django_db


@pytest.fixture
def lab(corpus) -> Organization:
    lab = Organization.objects.create(name="Example Lab", slug="example-lab", url="https://lab.example.org")
    Paper.objects.filter(arxiv_id__in=["2606.00001", "2606.00007", "2606.00008"]).update(organization=lab)
    return lab


def paper(arxiv_id: str) -> Paper:
    return Paper.objects.get(arxiv_id=arxiv_id)


def author(name: str) -> Author:
    return Author.objects.get(name=name)


# --- organization pages ---


def test_an_organization_page_lists_its_papers_newest_first(client, lab):
    response = client.get("/organizations/example-lab")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Example Lab</h1>" in html
    assert '<a href="https://lab.example.org" rel="noopener">' in html
    assert "3 papers, newest first" in html
    assert titles(response) == [
        "Cross-Lingual Retrieval with Small Language Models",  # 1 July
        "MLP-Mixer Revisited: Multilayer Perceptrons Are All You Need for Vision",  # 30 June
        "A Survey of Multilayer Perceptron Training",  # 26 June
    ]


def test_an_unknown_organization_is_a_404_that_says_so(client, corpus):
    response = client.get("/organizations/no-such-lab")
    assert response.status_code == 404
    assert "There is no organization “no-such-lab” on this site" in response.content.decode()


def test_an_organization_without_papers_says_so(client, corpus):
    Organization.objects.create(name="New Lab", slug="new-lab")
    html = client.get("/organizations/new-lab").content.decode()
    assert "No papers on this site are attributed to New Lab yet." in html


def test_an_organization_name_is_escaped(client, corpus):
    Organization.objects.create(name="<i>Lab</i>", slug="lab")
    html = client.get("/organizations/lab").content.decode()
    assert "&lt;i&gt;Lab&lt;/i&gt;" in html and "<i>Lab</i>" not in html


def many_papers(organization: Organization, count: int) -> None:
    """`count` papers of the organization, one a day back from 1 May 2026 (newest first = lowest number)."""
    Paper.objects.bulk_create(
        [
            Paper(
                arxiv_id=f"2605.{n:05d}",
                external_id=f"2605.{n:05d}",
                title=f"Paper number {n}",
                primary_category="cs.LG",
                published=date(2026, 5, 1) - timedelta(days=n),
                organization=organization,
            )
            for n in range(count)
        ]
    )


def test_organization_pages_are_paginated_twenty_a_page(client, corpus):
    lab = Organization.objects.create(name="Big Lab", slug="big-lab")
    many_papers(lab, 45)
    first = client.get("/organizations/big-lab")
    assert titles(first) == [f"Paper number {n}" for n in range(20)]
    assert "45 papers, newest first; page 1 of 3" in first.content.decode()
    assert 'rel="next" href="?page=2"' in first.content.decode()
    last = client.get("/organizations/big-lab", {"page": 3})
    assert titles(last) == [f"Paper number {n}" for n in range(40, 45)]
    assert 'rel="prev" href="?page=2"' in last.content.decode()
    assert titles(client.get("/organizations/big-lab", {"page": 99})) == titles(last)  # past the end: the last page


def test_a_page_that_is_not_a_number_is_a_400(client, lab):
    response = client.get("/organizations/example-lab", {"page": "two"})
    assert response.status_code == 400
    assert "page=&#x27;two&#x27; is not a page number" in response.content.decode()


def test_cards_link_the_organization_to_its_page(client, lab):
    html = client.get("/?date=2026-07-01").content.decode()
    assert '<a class="org" href="/organizations/example-lab">Example Lab</a>' in html
    page = client.get("/papers/2606.00008").content.decode()
    assert '<a href="/organizations/example-lab">Example Lab</a>' in page


def test_organization_page_queries_do_not_grow_with_papers(client, corpus):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lab = Organization.objects.create(name="Big Lab", slug="big-lab")
    many_papers(lab, 3)
    with CaptureQueriesContext(connection) as few:
        client.get("/organizations/big-lab")
    Paper.objects.filter(organization=None).update(organization=lab)
    many_papers_more = [
        Paper(arxiv_id=f"2604.{n:05d}", external_id=f"2604.{n:05d}", title="More", primary_category="cs.LG")
        for n in range(30)
    ]
    Paper.objects.bulk_create(many_papers_more)
    Paper.objects.filter(organization=None).update(organization=lab)
    with CaptureQueriesContext(connection) as many:
        client.get("/organizations/big-lab")
    assert len(many) == len(few)


# --- attaching papers to an organization in the admin ---


def test_staff_attach_papers_to_an_organization_through_an_intermediate_page(staff, corpus):
    lab = Organization.objects.create(name="Example Lab", slug="example-lab")
    chosen = [paper("2606.00002").pk, paper("2606.00003").pk]
    action = {"action": "attach_to_organization", "_selected_action": chosen}
    page = staff.post("/admin/papers/paper/", action)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Attach 2 papers to an organization" in html
    assert "Graph Transformers at Scale" in html
    assert f'<option value="{lab.pk}">Example Lab</option>' in html
    done = staff.post("/admin/papers/paper/", {**action, "apply": "yes", "organization": lab.pk}, follow=True)
    assert "2 papers attached to Example Lab." in done.content.decode()
    assert set(Paper.objects.filter(organization=lab).values_list("pk", flat=True)) == set(chosen)
    assert Paper.objects.exclude(pk__in=chosen).filter(organization__isnull=False).count() == 0


def test_attaching_without_choosing_asks_again(staff, corpus):
    Organization.objects.create(name="Example Lab", slug="example-lab")
    chosen = [paper("2606.00002").pk]
    page = staff.post(
        "/admin/papers/paper/", {"action": "attach_to_organization", "_selected_action": chosen, "apply": "yes"}
    )
    assert page.status_code == 200
    assert "Choose the organization to attach them to." in page.content.decode()
    assert not Paper.objects.filter(organization__isnull=False).exists()


def test_only_staff_reach_the_admin_actions(corpus):
    lab = Organization.objects.create(name="Example Lab", slug="example-lab")
    client = signed_in(member())
    response = client.post(
        "/admin/papers/paper/",
        {
            "action": "attach_to_organization",
            "_selected_action": [paper("2606.00002").pk],
            "apply": "yes",
            "organization": lab.pk,
        },
    )
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not Paper.objects.filter(organization=lab).exists()


# --- author pages ---


def test_an_author_page_lists_their_papers_newest_first(client, corpus):
    hinton = author("Geoffrey Hinton")
    extra = Paper.objects.create(
        arxiv_id="2606.00099", title="Forward-Forward Revisited", primary_category="cs.LG", published=date(2026, 7, 2)
    )
    Authorship.objects.create(paper=extra, author=hinton, position=0)
    response = client.get(f"/authors/{hinton.pk}/geoffrey-hinton")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Geoffrey Hinton</h1>" in html
    assert "2 papers, newest first" in html
    assert titles(response) == ["Forward-Forward Revisited", "A Survey of Multilayer Perceptron Training"]


def test_a_name_listed_twice_on_a_paper_lists_the_paper_once(client, corpus):
    witten = author("Edward Witten")
    Authorship.objects.create(paper=paper("hep-th/9901001"), author=witten, position=1)
    page = client.get(f"/authors/{witten.pk}", follow=True)
    assert titles(page) == ["String Dualities and Old-Style Identifiers"]
    assert "1 paper, newest first" in page.content.decode()
    form = signed_in(member()).get("/papers/hep-th/9901001").content.decode()
    assert form.count(f'<option value="{witten.pk}">') == 1


def test_author_addresses_redirect_to_the_one_with_the_name(client, corpus):
    hinton = author("Geoffrey Hinton")
    bare = client.get(f"/authors/{hinton.pk}", {"page": 1})
    assert bare.status_code == 301 and bare["Location"] == f"/authors/{hinton.pk}/geoffrey-hinton?page=1"
    wrong = client.get(f"/authors/{hinton.pk}/someone-else")
    assert wrong.status_code == 301 and wrong["Location"] == f"/authors/{hinton.pk}/geoffrey-hinton"


def test_names_in_other_scripts_keep_their_letters_in_the_address(client, corpus):
    li = author("李雷")
    response = client.get(f"/authors/{li.pk}")
    assert response.status_code == 301
    assert unescape(response["Location"]) in (f"/authors/{li.pk}/李雷", f"/authors/{li.pk}/%E6%9D%8E%E9%9B%B7")
    page = client.get(response["Location"])
    assert page.status_code == 200 and "<h1>李雷</h1>" in page.content.decode()
    zoe = author("Zoë Müller")
    assert client.get(f"/authors/{zoe.pk}/zoë-müller").status_code == 200


def test_an_author_name_is_escaped(client, corpus):
    mallory = author("Mallory <b>Evil</b>")
    page = client.get(f"/authors/{mallory.pk}", follow=True)
    html = page.content.decode()
    assert page.status_code == 200
    assert "<h1>Mallory &lt;b&gt;Evil&lt;/b&gt;</h1>" in html


def test_an_unknown_author_is_a_404(client, corpus):
    response = client.get("/authors/999999/nobody")
    assert response.status_code == 404
    assert "There is no author number 999999 on this site" in response.content.decode()


def test_author_names_on_the_paper_page_link_to_their_pages(client, corpus):
    html = client.get("/papers/2606.00008").content.decode()
    zoe, li = author("Zoë Müller"), author("李雷")
    assert f'<a href="/authors/{zoe.pk}/zo%C3%AB-m%C3%BCller">Zoë Müller</a>' in html
    assert f'<a href="/authors/{li.pk}/%E6%9D%8E%E9%9B%B7">李雷</a>' in html
    order = [html.index(name) for name in ("Zoë Müller", "José Núñez", "李雷")]
    assert order == sorted(order)  # in the paper's order


def test_the_paper_page_reads_authors_and_claims_in_a_fixed_number_of_queries(client, corpus):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as three:
        client.get("/papers/2606.00008")  # three authors
    with CaptureQueriesContext(connection) as one:
        client.get("/papers/2606.00003")  # one author
    assert len(three) == len(one)


# --- claiming authorship ---


def test_a_signed_in_member_is_offered_the_claim_form(corpus):
    html = signed_in(member()).get("/papers/2606.00001").content.decode()
    assert "Are you an author of this paper? Claim your name" in html
    assert 'action="/papers/2606.00001/claim"' in html
    for name in ("Ada Lovelace", "Alan Turing", "Grace Hopper"):
        assert f'<option value="{author(name).pk}">{name}</option>' in html


def test_signed_out_readers_are_asked_to_sign_in_to_claim(client, corpus):
    html = client.get("/papers/2606.00001").content.decode()
    assert 'action="/papers/2606.00001/claim"' not in html
    assert "to claim your name" in html and "/accounts/signin?next=/papers/2606.00001%23claim" in html


def test_claiming_records_a_pending_claim_that_only_its_user_sees(client, corpus):
    ada = member("ada")
    response = signed_in(ada).post("/papers/2606.00001/claim", {"author": author("Ada Lovelace").pk})
    assert response.status_code == 303 and response["Location"] == "/papers/2606.00001#claim"
    claim = AuthorClaim.objects.get()
    assert (claim.user, claim.paper.arxiv_id, claim.author.name, claim.status) == (
        ada,
        "2606.00001",
        "Ada Lovelace",
        "pending",
    )
    assert claim.decided_at is None
    own = signed_in(ada).get("/papers/2606.00001").content.decode()
    assert "Your claim to be <strong>Ada Lovelace</strong> on this paper is waiting for a moderator." in own
    assert "Claim your name" not in own
    for other in (client, signed_in(member("bob"))):
        html = other.get("/papers/2606.00001").content.decode()
        assert "waiting for a moderator" not in html and "✓ @ada" not in html


def test_a_second_claim_on_the_same_paper_says_one_is_already_pending(corpus):
    ada = member("ada")
    client = signed_in(ada)
    client.post("/papers/2606.00001/claim", {"author": author("Ada Lovelace").pk})
    again = client.post("/papers/2606.00001/claim", {"author": author("Alan Turing").pk})
    assert again.status_code == 409
    assert (
        "You have already claimed to be Ada Lovelace on this paper. Your claim is waiting for a moderator."
        in again.content.decode()
    )
    assert AuthorClaim.objects.count() == 1


@pytest.mark.parametrize("value", ["", "abc", "999999", "-1"])
def test_claiming_a_name_not_on_the_paper_is_a_400(corpus, value):
    response = signed_in(member()).post("/papers/2606.00001/claim", {"author": value})
    assert response.status_code == 400
    assert "Choose your name from this paper&#x27;s list of authors." in response.content.decode()
    assert not AuthorClaim.objects.exists()


def test_claiming_an_author_of_another_paper_is_a_400(corpus):
    response = signed_in(member()).post("/papers/2606.00001/claim", {"author": author("Edward Witten").pk})
    assert response.status_code == 400
    assert not AuthorClaim.objects.exists()


def test_signed_out_claims_go_to_sign_in_and_come_back_to_the_paper(client, corpus):
    response = client.post("/papers/2606.00001/claim", {"author": author("Ada Lovelace").pk})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/signin?next=/papers/2606.00001%23claim"
    assert not AuthorClaim.objects.exists()


def test_opening_the_claim_address_leads_to_the_paper(client, corpus):
    response = client.get("/papers/2606.00001/claim")
    assert response.status_code == 303 and response["Location"] == "/papers/2606.00001#claim"


def test_an_unconfirmed_email_cannot_claim_and_is_told_why(corpus):
    client = signed_in(member(verified=False))
    html = client.get("/papers/2606.00001").content.decode()
    assert "Are you an author of this paper? Confirm your email address first" in html
    assert 'action="/papers/2606.00001/claim"' not in html
    response = client.post("/papers/2606.00001/claim", {"author": author("Ada Lovelace").pk})
    assert response.status_code == 403
    assert "Confirm your email address first" in response.content.decode()
    assert not AuthorClaim.objects.exists()


def test_a_banned_user_cannot_claim(corpus):
    response = signed_in(member(banned=True)).post("/papers/2606.00001/claim", {"author": author("Ada Lovelace").pk})
    assert response.status_code == 403
    assert "This account has been banned from posting and voting." in response.content.decode()
    assert not AuthorClaim.objects.exists()


def test_claims_need_the_csrf_token(corpus):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member())
    assert client.post("/papers/2606.00001/claim", {"author": author("Ada Lovelace").pk}).status_code == 403
    assert not AuthorClaim.objects.exists()


def test_papers_not_here_cannot_be_claimed(corpus):
    client = signed_in(member())
    assert client.post("/papers/2699.99999/claim", {"author": "1"}).status_code == 404
    assert client.post("/papers/not-an-id/claim", {"author": "1"}).status_code == 404


def test_with_htmx_the_claim_box_is_swapped_for_the_answer(corpus):
    client = signed_in(member())
    headers = {"HX-Request": "true"}
    response = client.post("/papers/2606.00001/claim", {"author": author("Ada Lovelace").pk}, headers=headers)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="claim" id="claim"')
    assert "is waiting for a moderator" in html and "<html" not in html
    wrong = client.post("/papers/2606.00002/claim", {"author": "nobody"}, headers=headers)
    assert wrong.status_code == 200  # htmx swaps in only successful answers: the reason is inside the box
    assert 'role="alert">Choose your name from this paper&#x27;s list of authors.' in wrong.content.decode()


def test_too_many_waiting_claims_are_refused(corpus):
    ada = member("ada")
    for n in range(MAX_PENDING_CLAIMS):
        extra = Paper.objects.create(arxiv_id=f"2601.{n:05d}", title=f"P{n}", primary_category="cs.LG")
        AuthorClaim.objects.create(user=ada, paper=extra, author=author("Ada Lovelace"))
    response = signed_in(ada).post("/papers/2606.00001/claim", {"author": author("Ada Lovelace").pk})
    assert response.status_code == 429
    assert f"You have {MAX_PENDING_CLAIMS} claims waiting for a moderator" in response.content.decode()


def approve(staff: Client, *claims: AuthorClaim, action: str = "approve"):
    return staff.post(
        "/admin/community/authorclaim/", {"action": action, "_selected_action": [c.pk for c in claims]}, follow=True
    )


def test_an_approved_claim_marks_the_name_on_the_paper_and_the_author_page(client, staff, corpus):
    ada = member("ada")
    claim = AuthorClaim.objects.create(user=ada, paper=paper("2606.00001"), author=author("Ada Lovelace"))
    before = timezone.now()
    assert "1 claim approved." in approve(staff, claim).content.decode()
    claim.refresh_from_db()
    assert claim.status == "approved" and claim.decided_at >= before
    html = client.get("/papers/2606.00001").content.decode()
    html = html[html.index("<body>") :]  # the head names the authors too, in its citation tags
    assert '<a class="confirmed-author" href="/users/ada"' in html and "✓ @ada" in html
    mark = html.index("✓ @ada")
    assert html.index("Ada Lovelace") < mark < html.index("Alan Turing")  # beside the right name
    author_page = client.get(f"/authors/{author('Ada Lovelace').pk}/ada-lovelace").content.decode()
    assert 'Confirmed on this site as <a class="confirmed-author" href="/users/ada">✓ @ada</a>' in author_page
    assert client.get("/users/ada").status_code == 200  # the profile the marks link to
    own = signed_in(ada).get("/papers/2606.00001").content.decode()
    assert "A moderator confirmed you as <strong>Ada Lovelace</strong> on this paper." in own


def test_a_confirmed_name_is_no_longer_offered_to_others(staff, corpus):
    claim = AuthorClaim.objects.create(user=member("ada"), paper=paper("2606.00001"), author=author("Ada Lovelace"))
    approve(staff, claim)
    bob = signed_in(member("bob"))
    html = bob.get("/papers/2606.00001").content.decode()
    assert f'<option value="{author("Ada Lovelace").pk}">' not in html
    assert f'<option value="{author("Alan Turing").pk}">' in html
    response = bob.post("/papers/2606.00001/claim", {"author": author("Ada Lovelace").pk})
    assert response.status_code == 409
    assert "Ada Lovelace on this paper is already confirmed as another user." in response.content.decode()


def test_approving_a_second_claim_to_a_confirmed_name_is_skipped_with_a_warning(staff, corpus):
    first = AuthorClaim.objects.create(user=member("ada"), paper=paper("2606.00001"), author=author("Ada Lovelace"))
    second = AuthorClaim.objects.create(user=member("bob"), paper=paper("2606.00001"), author=author("Ada Lovelace"))
    html = approve(staff, first, second).content.decode()
    assert "1 claim approved." in html
    assert "Not approved: bob as Ada Lovelace on arXiv:2606.00001: that name is already confirmed as ada." in html
    second.refresh_from_db()
    assert second.status == "pending" and second.decided_at is None


def test_a_rejected_claim_is_told_to_its_user_only(client, staff, corpus):
    ada = member("ada")
    claim = AuthorClaim.objects.create(user=ada, paper=paper("2606.00001"), author=author("Ada Lovelace"))
    assert "1 claim rejected." in approve(staff, claim, action="reject").content.decode()
    claim.refresh_from_db()
    assert claim.status == "rejected" and claim.decided_at is not None
    own = signed_in(ada).get("/papers/2606.00001").content.decode()
    assert "A moderator did not confirm your claim to be <strong>Ada Lovelace</strong> on this paper." in own
    assert "✓ @ada" not in client.get("/papers/2606.00001").content.decode()
    again = signed_in(ada).post("/papers/2606.00001/claim", {"author": author("Ada Lovelace").pk})
    assert again.status_code == 409 and "a moderator did not confirm you as Ada Lovelace" in again.content.decode()


def test_the_claims_admin_lists_and_filters_claims(staff, corpus):
    AuthorClaim.objects.create(user=member("ada"), paper=paper("2606.00001"), author=author("Ada Lovelace"))
    listing = staff.get("/admin/community/authorclaim/", {"status__exact": "pending"})
    assert listing.status_code == 200 and "Ada Lovelace" in listing.content.decode()
    approved = staff.get("/admin/community/authorclaim/", {"status__exact": "approved"})
    assert approved.status_code == 200 and "Ada Lovelace" not in approved.content.decode()
