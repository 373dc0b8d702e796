"""Votes left: where a challenge limits votes, its pages tell a signed-in participant how
many are left, and someone with none left reads why instead of a Vote button."""

import html

import pytest

from engage.extensions import db
from engage.ideas import services


@pytest.fixture
def voter(make_user, auth):
    person = make_user("voter@example.org")
    auth.login("voter@example.org")
    return person


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def vote_buttons(text: str) -> int:
    return text.count('<button type="submit" class="primary">Vote<')


def test_challenge_and_idea_pages_say_how_many_votes_are_left(
    client, voter, make_challenge, make_idea, make_vote
):
    challenge = make_challenge("open", vote_limit=5)
    ideas = [make_idea(challenge) for _ in range(3)]
    make_vote(voter, ideas[0])
    make_vote(voter, ideas[1])

    assert "3 of 5 votes left" in page(client, f"/challenges/{challenge.slug}")
    assert "3 of 5 votes left" in page(client, f"/ideas/{ideas[2].id}")


def test_with_no_vote_left_the_reason_replaces_the_vote_button(
    client, voter, make_challenge, make_idea, make_vote
):
    challenge = make_challenge("open", vote_limit=2)
    first, second, third = (make_idea(challenge) for _ in range(3))
    make_vote(voter, first)
    make_vote(voter, second)
    reason = "You have used all 2 of your votes in this challenge. Take one back"

    listing = page(client, f"/challenges/{challenge.slug}")
    idea_page = page(client, f"/ideas/{third.id}")

    assert "0 of 2 votes left" in listing
    assert vote_buttons(listing) == 0
    assert listing.count(reason) == 1
    assert listing.count("Withdraw my vote") == 2
    assert vote_buttons(idea_page) == 0 and reason in idea_page


def test_withdrawing_a_vote_gives_it_back(client, voter, make_challenge, make_idea, make_vote):
    challenge = make_challenge("open", vote_limit=1)
    first, second = make_idea(challenge), make_idea(challenge)
    make_vote(voter, first)

    client.post(f"/ideas/{first.id}/unvote")

    text = page(client, f"/ideas/{second.id}")
    assert "1 of 1 votes left" in text
    assert vote_buttons(text) == 1


def test_votes_on_ideas_that_left_are_not_counted(
    client, voter, make_challenge, make_idea, make_vote
):
    challenge = make_challenge("open", vote_limit=2)
    gone, other = make_idea(challenge), make_idea(challenge)
    make_vote(voter, gone)
    services.withdraw_idea(gone.author, gone)
    db.session.commit()

    assert "2 of 2 votes left" in page(client, f"/ideas/{other.id}")


def test_no_votes_left_text_without_a_limit(client, voter, make_challenge, make_idea):
    challenge = make_challenge("open")
    idea = make_idea(challenge)

    assert "votes left" not in page(client, f"/challenges/{challenge.slug}")
    assert "votes left" not in page(client, f"/ideas/{idea.id}")


def test_visitors_see_no_votes_left(client, make_challenge, make_idea):
    challenge = make_challenge("open", vote_limit=3)
    idea = make_idea(challenge)

    assert "votes left" not in page(client, f"/challenges/{challenge.slug}")
    assert "votes left" not in page(client, f"/ideas/{idea.id}")


def test_no_votes_left_text_once_voting_is_closed(client, voter, make_challenge, make_idea):
    challenge = make_challenge("review", vote_limit=3)
    make_idea(challenge)

    assert "votes left" not in page(client, f"/challenges/{challenge.slug}")


def test_unverified_people_see_no_votes_left(client, auth, make_user, make_challenge, make_idea):
    make_user("new@example.org", verified=False)
    auth.login("new@example.org")
    challenge = make_challenge("open", vote_limit=3)
    make_idea(challenge)

    assert "votes left" not in page(client, f"/challenges/{challenge.slug}")


def test_votes_in_another_challenge_do_not_count(
    client, voter, make_challenge, make_idea, make_vote
):
    limited = make_challenge("open", vote_limit=2)
    make_idea(limited)
    make_vote(voter, make_idea(make_challenge("open", vote_limit=2)))

    assert "2 of 2 votes left" in page(client, f"/challenges/{limited.slug}")
