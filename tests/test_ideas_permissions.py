"""Who may see, submit, vote on, comment on, edit and withdraw ideas: role × phase matrices.

Each matrix row lists the phases in which the role is allowed; every other phase refuses.
"""

import itertools

import pytest
from flask_login import AnonymousUserMixin

from engage.auth.models import User
from engage.challenges.states import PHASES
from engage.db import now_utc
from engage.extensions import db
from engage.ideas.permissions import (
    can_comment_idea,
    can_edit_idea,
    can_participate,
    can_submit_idea,
    can_view_idea,
    can_vote_idea,
    can_withdraw_idea,
)

ALL = set(PHASES)
NONE: set[str] = set()
PUBLIC = ALL - {"draft"}
ROLES = (
    "visitor",
    "unverified",
    "citizen",
    "business",
    "business_citizens_only",
    "suspended",
    "author",
    "agency_staff",
    "agency_admin",
    "other_agency_staff",
    "site_admin",
)
PARTICIPANTS = {
    "citizen",
    "business",
    "author",
    "agency_staff",
    "agency_admin",
    "other_agency_staff",
    "site_admin",
}
SEES_EVERYTHING = {"agency_staff", "agency_admin", "site_admin"}

_numbers = itertools.count(1)


def _person(**fields) -> User:
    # Built directly rather than with make_user: these people never sign in, and hashing
    # a password for each of several hundred matrix cells would dominate the run.
    number = next(_numbers)
    fields.setdefault("email_verified_at", now_utc())
    user = User(
        email=f"matrix{number}@example.org",
        display_name=f"Matrix {number}",
        password_hash="!unusable",
        **fields,
    )
    db.session.add(user)
    return user


class World:
    """An agency with staff, another agency, an author, and a challenge in every phase
    holding a published and a pending idea by that author."""

    def __init__(self, make_agency, make_challenge, make_idea, allow_business: bool):
        self.author = _person()
        self.staff, self.admin, self.other_staff = _person(), _person(), _person()
        self.site_admin = _person(is_admin=True)
        agency = make_agency(members=[(self.staff, "moderator"), (self.admin, "admin")])
        make_agency(members=[(self.other_staff, "admin")])
        self.challenges, self.published, self.pending = {}, {}, {}
        for phase in PHASES:
            challenge = make_challenge(phase, agency=agency, allow_business=allow_business)
            self.challenges[phase] = challenge
            self.published[phase] = make_idea(challenge, author=self.author, state="published")
            self.pending[phase] = make_idea(challenge, author=self.author, state="pending")

    def user(self, role: str):
        if role == "visitor":
            return AnonymousUserMixin()
        if role == "unverified":
            return _person(email_verified_at=None)
        if role == "citizen":
            return _person()
        if role in ("business", "business_citizens_only"):
            return _person(account_type="business", organisation_name="Bikes Ltd")
        if role == "suspended":
            return _person(suspended_at=now_utc())
        return {
            "author": self.author,
            "agency_staff": self.staff,
            "agency_admin": self.admin,
            "other_agency_staff": self.other_staff,
            "site_admin": self.site_admin,
        }[role]


@pytest.fixture
def world(make_agency, make_challenge, make_idea):
    def build(role: str) -> World:
        return World(
            make_agency, make_challenge, make_idea, allow_business=role != "business_citizens_only"
        )

    return build


def _allowed_phases(predicate, user, objects) -> set[str]:
    verdicts = {phase: predicate(user, obj) for phase, obj in objects.items()}
    assert all(bool(v) or str(v.reason) for v in verdicts.values()), "a refusal says why"
    return {phase for phase, verdict in verdicts.items() if verdict}


SUBMIT = {role: {"open"} if role in PARTICIPANTS else NONE for role in ROLES}
VOTE = {role: {"open", "voting"} if role in PARTICIPANTS else NONE for role in ROLES}
COMMENT = {role: {"open", "voting", "review"} if role in PARTICIPANTS else NONE for role in ROLES}
EDIT_PENDING = {role: {"open", "voting"} if role == "author" else NONE for role in ROLES}
WITHDRAW = {role: ALL if role == "author" else NONE for role in ROLES}
VIEW_PUBLISHED = {role: ALL if role in SEES_EVERYTHING else PUBLIC for role in ROLES}
VIEW_PENDING = {role: ALL if role in SEES_EVERYTHING else NONE for role in ROLES}
VIEW_PENDING["author"] = PUBLIC


@pytest.mark.parametrize("role", ROLES)
def test_can_submit_idea_matrix(world, role):
    w = world(role)

    assert _allowed_phases(can_submit_idea, w.user(role), w.challenges) == SUBMIT[role]


@pytest.mark.parametrize("role", ROLES)
def test_can_vote_idea_matrix(world, role):
    w = world(role)

    assert _allowed_phases(can_vote_idea, w.user(role), w.published) == VOTE[role]


@pytest.mark.parametrize("role", ROLES)
def test_can_comment_idea_matrix(world, role):
    w = world(role)

    assert _allowed_phases(can_comment_idea, w.user(role), w.published) == COMMENT[role]


@pytest.mark.parametrize("role", ROLES)
def test_can_edit_idea_matrix_for_a_pending_idea(world, role):
    w = world(role)

    assert _allowed_phases(can_edit_idea, w.user(role), w.pending) == EDIT_PENDING[role]


@pytest.mark.parametrize("role", ROLES)
def test_nobody_can_edit_a_published_idea(world, role):
    w = world(role)

    assert _allowed_phases(can_edit_idea, w.user(role), w.published) == NONE


@pytest.mark.parametrize("role", ROLES)
def test_can_withdraw_idea_matrix(world, role):
    w = world(role)
    user = w.user(role)

    assert _allowed_phases(can_withdraw_idea, user, w.published) == WITHDRAW[role]
    assert _allowed_phases(can_withdraw_idea, user, w.pending) == WITHDRAW[role]


@pytest.mark.parametrize("role", ROLES)
def test_can_view_idea_matrix_for_a_published_idea(world, role):
    w = world(role)
    user = w.user(role)

    allowed = {phase for phase, idea in w.published.items() if can_view_idea(user, idea)}
    assert allowed == VIEW_PUBLISHED[role]


@pytest.mark.parametrize("role", ROLES)
def test_pending_idea_is_seen_only_by_its_author_and_the_agency_staff(world, role):
    w = world(role)
    user = w.user(role)

    allowed = {phase for phase, idea in w.pending.items() if can_view_idea(user, idea)}
    assert allowed == VIEW_PENDING[role]


def test_nobody_signed_in_is_the_same_as_a_visitor(world):
    w = world("visitor")

    assert not can_participate(None, w.challenges["open"])
    assert not can_view_idea(None, w.pending["open"])
    assert can_view_idea(None, w.published["open"])
    assert not can_edit_idea(None, w.pending["open"])
    assert not can_withdraw_idea(None, w.pending["open"])


@pytest.mark.parametrize(
    ("role", "reason"),
    [
        ("visitor", "Sign in to take part."),
        ("unverified", "Confirm your e-mail address to take part."),
        ("suspended", "Your account is suspended."),
        ("business_citizens_only", "This challenge is open to citizens only."),
    ],
)
def test_refusal_tells_the_person_why(world, role, reason):
    w = world(role)

    verdict = can_vote_idea(w.user(role), w.published["open"])

    assert not verdict
    assert str(verdict.reason).startswith(reason)


@pytest.mark.parametrize(
    ("state", "editable"),
    [
        ("pending", True),
        ("changes_requested", True),
        ("published", False),
        ("rejected", False),
        ("hidden", False),
        ("withdrawn", False),
        ("merged", False),
    ],
)
def test_author_edits_only_while_waiting_for_moderation(make_idea, make_user, state, editable):
    author = make_user()
    idea = make_idea(author=author, state=state)

    assert bool(can_edit_idea(author, idea)) is editable


@pytest.mark.parametrize(
    ("state", "withdrawable"),
    [
        ("pending", True),
        ("changes_requested", True),
        ("published", True),
        ("rejected", False),
        ("hidden", False),
        ("withdrawn", False),
        ("merged", False),
    ],
)
def test_author_withdraws_only_from_the_states_the_lifecycle_allows(
    make_idea, make_user, state, withdrawable
):
    author = make_user()
    idea = make_idea(author=author, state=state)

    assert bool(can_withdraw_idea(author, idea)) is withdrawable


@pytest.mark.parametrize("state", ["pending", "hidden", "rejected", "withdrawn"])
def test_only_published_ideas_take_votes_and_comments(make_idea, make_user, state):
    idea = make_idea(state=state)
    citizen = make_user()

    assert not can_vote_idea(citizen, idea)
    assert not can_comment_idea(citizen, idea)


# Through the pages: what may not be seen answers 404.


@pytest.fixture
def pending_idea(make_user, make_agency, make_challenge, make_idea):
    author = make_user("author@example.org")
    staff = make_user("staff@example.org")
    other = make_user("other-staff@example.org")
    make_user("citizen@example.org")
    agency = make_agency(members=[(staff, "moderator")])
    make_agency(members=[(other, "admin")])
    challenge = make_challenge("open", agency=agency, moderation_mode="pre")
    return make_idea(challenge, author=author, state="pending")


@pytest.mark.parametrize(
    ("email", "status"),
    [
        (None, 404),
        ("citizen@example.org", 404),
        ("other-staff@example.org", 404),
        ("author@example.org", 200),
        ("staff@example.org", 200),
    ],
)
def test_pending_idea_page_answers_404_to_all_but_author_and_staff(
    client, auth, pending_idea, email, status
):
    if email:
        auth.login(email)

    response = client.get(f"/ideas/{pending_idea.id}")

    assert response.status_code == status
    assert (pending_idea.title in response.get_data(as_text=True)) is (status == 200)


@pytest.fixture
def draft(make_user, make_agency, make_challenge, make_idea):
    staff = make_user("staff@example.org")
    other = make_user("other-staff@example.org")
    author = make_user("author@example.org")
    make_user("citizen@example.org")
    agency = make_agency(members=[(staff, "admin")])
    make_agency(members=[(other, "admin")])
    challenge = make_challenge("draft", agency=agency, slug="not-yet")
    idea = make_idea(challenge, author=author, state="published")
    return challenge, idea


@pytest.mark.parametrize(
    ("email", "status"),
    [
        (None, 404),
        ("citizen@example.org", 404),
        ("author@example.org", 404),
        ("other-staff@example.org", 404),
        ("staff@example.org", 200),
    ],
)
def test_draft_challenge_and_its_ideas_are_hidden_from_the_public(
    client, auth, draft, email, status
):
    challenge, idea = draft
    if email:
        auth.login(email)

    assert client.get(f"/challenges/{challenge.slug}").status_code == status
    assert client.get(f"/ideas/{idea.id}").status_code == status


def test_draft_challenge_refuses_submissions_with_404(client, auth, draft):
    auth.login("citizen@example.org")

    response = client.get("/challenges/not-yet/ideas/new")

    assert response.status_code == 404
