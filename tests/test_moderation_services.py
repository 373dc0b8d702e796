"""Moderation services: decisions, bulk decisions, merges, flags, risks, the target,
and the append-only audit record each of them writes. Who may call them is the views'
to check: tests/test_moderation_permissions.py walks every role through every endpoint."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engage.audit import ModerationAction
from engage.db import now_utc
from engage.errors import InvalidTransition, NotPermitted, ValidationFailed
from engage.extensions import db
from engage.ideas import services as ideas
from engage.ideas.models import Comment, Idea, Vote
from engage.moderation import services
from engage.moderation.models import Flag, RiskFlag


@pytest.fixture
def moderator(make_user, make_idea, make_vote):
    # Every factory is set up first: each pushes its own app context, and so its own
    # session; objects made before the last one is pushed would live in another session.
    return make_user("moderator@example.org", display_name="Morgan Moderator")


@pytest.fixture
def agency(make_agency, moderator):
    return make_agency("city", members=[(moderator, "moderator")])


@pytest.fixture
def challenge(make_challenge, agency):
    return make_challenge("open", agency=agency, moderation_mode="pre")


@pytest.fixture
def author(make_user, moderator):
    return make_user("author@example.org", display_name="Ada Author")


@pytest.fixture
def outsider(make_user, make_agency, moderator):
    """A moderator of another agency."""
    person = make_user("outsider@example.org")
    make_agency("elsewhere", members=[(person, "moderator")])
    return person


def _fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def _records(**where) -> list[ModerationAction]:
    query = select(ModerationAction).order_by(ModerationAction.id)
    for name, value in where.items():
        query = query.where(getattr(ModerationAction, name) == value)
    return db.session.scalars(query).all()


def _vote_rows(idea_id: int) -> int:
    return db.session.scalar(select(func.count(Vote.id)).where(Vote.idea_id == idea_id))


def _voters(idea_id: int) -> list[int]:
    return sorted(db.session.scalars(select(Vote.voter_id).where(Vote.idea_id == idea_id)))


def _open_flags(**where) -> int:
    query = select(func.count(Flag.id)).where(Flag.resolved_at.is_(None))
    for name, value in where.items():
        query = query.where(getattr(Flag, name) == value)
    return db.session.scalar(query)


def _decide(actor, idea, action, reason=None):
    services.moderate_idea(actor, idea, action, reason)
    db.session.commit()


def _flag(reporter, item, reason="spam", details=None):
    flag = services.flag_content(reporter, item, reason, details)
    db.session.commit()
    return flag


def _flag_by(make_user, item, count: int, reason="offensive"):
    for _ in range(count):
        _flag(make_user(), item, reason)


def _comment(make_user, idea, body="A comment."):
    comment = ideas.add_comment(make_user(), idea, body)
    db.session.commit()
    return comment


# --- moderate_idea ----------------------------------------------------------------------


def test_publish_makes_a_pending_idea_public(moderator, challenge, author, make_idea):
    idea = make_idea(challenge, author=author, state="pending")

    _decide(moderator, idea, "publish")

    stored = _fresh(Idea, idea.id)
    assert stored.moderation_state == "published"
    assert stored.published_at is not None
    assert stored.moderation_reason is None
    assert stored.challenge.idea_count == 1


def test_publish_takes_the_idea_out_of_the_queue(moderator, challenge, make_idea):
    idea = make_idea(challenge, state="pending")
    assert idea.queued_at is not None

    _decide(moderator, idea, "publish")

    assert _fresh(Idea, idea.id).queued_at is None


def test_publish_writes_an_audit_record(moderator, agency, challenge, make_idea):
    idea = make_idea(challenge, state="pending")

    _decide(moderator, idea, "publish")

    [record] = _records()
    assert (record.actor_id, record.agency_id, record.idea_id, record.comment_id) == (
        moderator.id,
        agency.id,
        idea.id,
        None,
    )
    assert (record.action, record.from_state, record.to_state, record.reason) == (
        "publish",
        "pending",
        "published",
        None,
    )
    assert record.created_at is not None


@pytest.mark.parametrize("reason", [None, "", "   \n "])
def test_reject_requires_a_reason(moderator, challenge, make_idea, reason):
    idea = make_idea(challenge, state="pending")

    with pytest.raises(ValidationFailed) as raised:
        services.moderate_idea(moderator, idea, "reject", reason)
    db.session.rollback()

    assert raised.value.field == "reason"
    assert _fresh(Idea, idea.id).moderation_state == "pending"
    assert _records() == []


def test_reject_stores_the_reason_shown_to_the_author(moderator, challenge, make_idea):
    idea = make_idea(challenge, state="pending")

    _decide(moderator, idea, "reject", "  Already planned for next year.  ")

    stored = _fresh(Idea, idea.id)
    assert stored.moderation_state == "rejected"
    assert stored.moderation_reason == "Already planned for next year."
    assert stored.queued_at is None
    [record] = _records()
    assert (record.action, record.from_state, record.to_state, record.reason) == (
        "reject",
        "pending",
        "rejected",
        "Already planned for next year.",
    )


def test_request_changes_requires_a_message(moderator, challenge, make_idea):
    idea = make_idea(challenge, state="pending")

    with pytest.raises(ValidationFailed) as raised:
        services.moderate_idea(moderator, idea, "request_changes", " ")
    db.session.rollback()

    assert raised.value.field == "reason"
    assert _fresh(Idea, idea.id).moderation_state == "pending"


def test_request_changes_sends_the_idea_back_to_its_author(moderator, challenge, make_idea):
    idea = make_idea(challenge, state="pending")

    _decide(moderator, idea, "request_changes", "Which district do you mean?")

    stored = _fresh(Idea, idea.id)
    assert stored.moderation_state == "changes_requested"
    assert stored.moderation_reason == "Which district do you mean?"
    assert stored.queued_at is None
    [record] = _records()
    assert (record.from_state, record.to_state) == ("pending", "changes_requested")


def test_edit_after_requested_changes_returns_the_idea_to_the_queue(
    moderator, challenge, author, make_idea
):
    idea = make_idea(challenge, author=author, state="pending")
    _decide(moderator, idea, "request_changes", "Which district?")

    ideas.edit_idea(author, idea, title="Benches in the north district", body="Ten benches.")
    db.session.commit()

    stored = _fresh(Idea, idea.id)
    assert stored.moderation_state == "pending"
    assert stored.moderation_reason is None
    assert stored.queued_at is not None


def test_hide_requires_a_reason(moderator, challenge, make_idea):
    idea = make_idea(challenge)

    with pytest.raises(ValidationFailed) as raised:
        services.moderate_idea(moderator, idea, "hide")
    db.session.rollback()

    assert raised.value.field == "reason"
    assert _fresh(Idea, idea.id).moderation_state == "published"


def test_hide_takes_a_published_idea_down(moderator, challenge, make_idea):
    idea = make_idea(challenge)

    _decide(moderator, idea, "hide", "Advertising.")

    stored = _fresh(Idea, idea.id)
    assert (stored.moderation_state, stored.moderation_reason) == ("hidden", "Advertising.")
    assert stored.challenge.idea_count == 0
    [record] = _records()
    assert (record.from_state, record.to_state, record.reason) == (
        "published",
        "hidden",
        "Advertising.",
    )


def test_hide_closes_the_open_flags_of_the_idea(moderator, challenge, make_idea, make_user):
    idea = make_idea(challenge)
    _flag(make_user(), idea)

    _decide(moderator, idea, "hide", "Advertising.")

    stored = _fresh(Idea, idea.id)
    assert (stored.open_flag_count, stored.queued_at) == (0, None)
    assert _open_flags(idea_id=idea.id) == 0


def test_restore_publishes_a_hidden_idea_again(moderator, challenge, make_idea):
    idea = make_idea(challenge, state="hidden")

    _decide(moderator, idea, "restore")

    stored = _fresh(Idea, idea.id)
    assert (stored.moderation_state, stored.moderation_reason) == ("published", None)
    [record] = _records()
    assert (record.action, record.from_state, record.to_state) == (
        "restore",
        "hidden",
        "published",
    )


def test_unknown_decision_is_refused(moderator, challenge, make_idea):
    idea = make_idea(challenge, state="pending")

    with pytest.raises(InvalidTransition):
        services.moderate_idea(moderator, idea, "merge", "A reason")
    db.session.rollback()

    assert _fresh(Idea, idea.id).moderation_state == "pending"
    assert _records() == []


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("published", "publish"),
        ("rejected", "publish"),
        ("pending", "hide"),
        ("pending", "restore"),
        ("changes_requested", "reject"),
        ("merged", "restore"),
        ("withdrawn", "publish"),
    ],
)
def test_illegal_decision_is_refused_with_a_clear_message(
    moderator, challenge, make_idea, state, action
):
    idea = make_idea(challenge, state=state)

    with pytest.raises(InvalidTransition) as raised:
        services.moderate_idea(moderator, idea, action, "A reason")
    db.session.rollback()

    assert "that action is not possible now" in str(raised.value.message)
    assert _fresh(Idea, idea.id).moderation_state == state
    assert _records() == []


def test_reason_longer_than_the_limit_is_refused(moderator, challenge, make_idea):
    idea = make_idea(challenge, state="pending")

    with pytest.raises(ValidationFailed) as raised:
        services.moderate_idea(moderator, idea, "reject", "x" * (services.REASON_MAX + 1))
    db.session.rollback()

    assert raised.value.field == "reason"
    assert _fresh(Idea, idea.id).moderation_state == "pending"


def test_reason_of_the_maximum_length_is_accepted(moderator, challenge, make_idea):
    idea = make_idea(challenge, state="pending")

    _decide(moderator, idea, "reject", "x" * services.REASON_MAX)

    assert _fresh(Idea, idea.id).moderation_reason == "x" * services.REASON_MAX


def test_agency_admin_can_decide(make_user, make_agency, make_challenge, make_idea):
    admin = make_user()
    challenge = make_challenge(
        "open", agency=make_agency(members=[(admin, "admin")]), moderation_mode="pre"
    )
    idea = make_idea(challenge, state="pending")

    _decide(admin, idea, "publish")

    assert _fresh(Idea, idea.id).moderation_state == "published"


def test_site_admin_can_decide_in_any_agency(challenge, make_idea, make_user):
    site_admin = make_user(is_admin=True)
    idea = make_idea(challenge, state="pending")

    _decide(site_admin, idea, "publish")

    assert _fresh(Idea, idea.id).moderation_state == "published"
    assert _records()[0].actor_id == site_admin.id


@pytest.mark.parametrize(
    ("state", "action", "reason", "subject"),
    [
        ("pending", "publish", None, "was published"),
        ("pending", "reject", "Out of scope.", "was rejected"),
        ("pending", "request_changes", "Add a map.", "was sent back for changes"),
        ("published", "hide", "Advertising.", "was hidden"),
        ("hidden", "restore", None, "was published again"),
    ],
)
def test_each_decision_emails_the_author(
    moderator, challenge, author, make_idea, mailbox, state, action, reason, subject
):
    idea = make_idea(challenge, author=author, state=state, title="Benches")

    _decide(moderator, idea, action, reason)

    [message] = mailbox
    assert message["To"] == "author@example.org"
    assert message["Subject"] == f"Your idea “Benches” {subject}"
    if reason:
        assert reason in message.get_content()


def test_request_changes_email_links_to_the_edit_page(
    moderator, challenge, author, make_idea, mailbox
):
    idea = make_idea(challenge, author=author, state="pending")

    _decide(moderator, idea, "request_changes", "Add a map.")

    assert f"http://engage.test/ideas/{idea.id}/edit" in mailbox[0].get_content()


def test_refused_decision_sends_no_email(moderator, challenge, make_idea, mailbox):
    idea = make_idea(challenge, state="pending")

    with pytest.raises(ValidationFailed):
        services.moderate_idea(moderator, idea, "reject", "")
    db.session.rollback()
    db.session.commit()

    assert mailbox == []


# --- bulk_moderate ----------------------------------------------------------------------


def test_bulk_publish_publishes_every_selected_idea(moderator, agency, challenge, make_idea):
    first, second = (make_idea(challenge, state="pending") for _ in range(2))

    done, skipped = services.bulk_moderate(
        moderator, agency, [first.id, second.id], "publish", None
    )
    db.session.commit()

    assert (done, skipped) == (2, 0)
    assert {_fresh(Idea, i).moderation_state for i in (first.id, second.id)} == {"published"}
    assert [r.action for r in _records()] == ["publish", "publish"]


def test_bulk_reject_gives_every_idea_the_same_reason(
    moderator, agency, challenge, make_idea, mailbox
):
    first, second = (make_idea(challenge, state="pending") for _ in range(2))

    services.bulk_moderate(moderator, agency, [first.id, second.id], "reject", "Duplicate.")
    db.session.commit()

    for idea_id in (first.id, second.id):
        stored = _fresh(Idea, idea_id)
        assert (stored.moderation_state, stored.moderation_reason) == ("rejected", "Duplicate.")
    assert [(r.action, r.reason) for r in _records()] == [("reject", "Duplicate.")] * 2
    assert len(mailbox) == 2


def test_bulk_reject_without_reason_is_refused_and_changes_nothing(
    moderator, agency, challenge, make_idea, mailbox
):
    first, second = (make_idea(challenge, state="pending") for _ in range(2))

    with pytest.raises(ValidationFailed) as raised:
        services.bulk_moderate(moderator, agency, [first.id, second.id], "reject", "  ")
    db.session.rollback()
    db.session.commit()

    assert raised.value.field == "reason"
    assert {_fresh(Idea, i).moderation_state for i in (first.id, second.id)} == {"pending"}
    assert _records() == []
    assert mailbox == []


def test_bulk_ignores_ideas_of_another_agency(
    moderator, agency, challenge, make_idea, make_challenge
):
    own = make_idea(challenge, state="pending")
    foreign = make_idea(make_challenge("open", moderation_mode="pre"), state="pending")

    done, skipped = services.bulk_moderate(
        moderator, agency, [own.id, foreign.id], "publish", None
    )
    db.session.commit()

    assert (done, skipped) == (1, 1)
    assert _fresh(Idea, own.id).moderation_state == "published"
    assert _fresh(Idea, foreign.id).moderation_state == "pending"
    assert [r.idea_id for r in _records()] == [own.id]


def test_bulk_skips_ideas_already_decided(moderator, agency, challenge, make_idea, mailbox):
    pending = make_idea(challenge, state="pending")
    rejected = make_idea(challenge, state="rejected")
    later_pending = make_idea(challenge, state="pending")

    done, skipped = services.bulk_moderate(
        moderator, agency, [pending.id, rejected.id, later_pending.id], "publish", None
    )
    db.session.commit()

    assert (done, skipped) == (2, 1)
    assert _fresh(Idea, rejected.id).moderation_state == "rejected"
    assert _fresh(Idea, pending.id).moderation_state == "published"
    assert _fresh(Idea, later_pending.id).moderation_state == "published"
    # A skipped idea between two decided ones must not lose the others' e-mails.
    assert len(mailbox) == 2


@pytest.mark.parametrize("action", ["hide", "restore", "request_changes", "merge"])
def test_bulk_accepts_only_publish_and_reject(moderator, agency, challenge, make_idea, action):
    idea = make_idea(challenge, state="pending")

    with pytest.raises(InvalidTransition):
        services.bulk_moderate(moderator, agency, [idea.id], action, "A reason")
    db.session.rollback()

    assert _fresh(Idea, idea.id).moderation_state == "pending"


# --- merge_idea -------------------------------------------------------------------------


@pytest.fixture
def pair(challenge, make_idea, author):
    """A duplicate and the published idea it repeats, in the same challenge."""
    target = make_idea(challenge, title="Plant fruit trees in Riverside Park")
    duplicate = make_idea(challenge, author=author, title="More fruit trees in our parks")
    return duplicate, target


def _merge(actor, duplicate, target, reason=None):
    services.merge_idea(actor, duplicate, target, reason)
    db.session.commit()


def test_merge_moves_the_votes_to_the_target(moderator, pair, make_user, make_vote):
    duplicate, target = pair
    voters = [make_user() for _ in range(3)]
    for voter in voters:
        make_vote(voter, duplicate)

    _merge(moderator, duplicate, target)

    assert _voters(target.id) == sorted(v.id for v in voters)
    assert _vote_rows(duplicate.id) == 0
    assert _fresh(Idea, target.id).vote_count == 3
    assert _fresh(Idea, duplicate.id).vote_count == 0


def test_merge_counts_a_person_who_voted_for_both_ideas_once(
    moderator, pair, make_user, make_vote
):
    duplicate, target = pair
    both, only_duplicate, only_target = make_user(), make_user(), make_user()
    make_vote(both, duplicate)
    make_vote(both, target)
    make_vote(only_duplicate, duplicate)
    make_vote(only_target, target)

    _merge(moderator, duplicate, target)

    votes_of_both = db.session.scalar(select(func.count(Vote.id)).where(Vote.voter_id == both.id))
    assert votes_of_both == 1
    assert _voters(target.id) == sorted([both.id, only_duplicate.id, only_target.id])
    stored_target, stored_duplicate = _fresh(Idea, target.id), _fresh(Idea, duplicate.id)
    assert stored_target.vote_count == _vote_rows(target.id) == 3
    assert stored_duplicate.vote_count == _vote_rows(duplicate.id) == 0


def test_merge_marks_the_duplicate_merged_with_a_pointer(moderator, pair):
    duplicate, target = pair

    _merge(moderator, duplicate, target, "Same idea.")

    stored = _fresh(Idea, duplicate.id)
    assert (stored.moderation_state, stored.merged_into_id) == ("merged", target.id)
    assert stored.challenge.idea_count == 1
    assert _fresh(Idea, target.id).moderation_state == "published"


def test_merge_keeps_the_duplicates_comments_on_it(moderator, pair, make_user):
    duplicate, target = pair
    comment = _comment(make_user, duplicate, "Apple trees, please.")

    _merge(moderator, duplicate, target)

    stored = _fresh(Comment, comment.id)
    assert (stored.idea_id, stored.is_hidden) == (duplicate.id, False)


def test_merge_writes_a_record_on_both_ideas(moderator, agency, pair):
    duplicate, target = pair

    _merge(moderator, duplicate, target, "Same idea.")

    [on_duplicate] = _records(idea_id=duplicate.id)
    assert (on_duplicate.actor_id, on_duplicate.agency_id, on_duplicate.action) == (
        moderator.id,
        agency.id,
        "merge",
    )
    assert (on_duplicate.from_state, on_duplicate.to_state, on_duplicate.reason) == (
        "published",
        "merged",
        "Same idea.",
    )
    [on_target] = _records(idea_id=target.id)
    assert (on_target.action, on_target.reason) == ("merge_into", f"← #{duplicate.id}")


def test_merge_without_note_records_the_target(moderator, pair):
    duplicate, target = pair

    _merge(moderator, duplicate, target)

    assert _records(idea_id=duplicate.id)[0].reason == f"→ #{target.id}"


def test_merge_emails_the_duplicates_author(moderator, pair, mailbox):
    duplicate, target = pair

    _merge(moderator, duplicate, target, "Same idea.")

    [message] = mailbox
    assert message["To"] == "author@example.org"
    assert message["Subject"] == (
        "Your idea “More fruit trees in our parks” was merged with a similar one"
    )
    assert f"http://engage.test/ideas/{target.id}" in message.get_content()
    assert "Same idea." in message.get_content()


def test_merge_of_a_pending_idea_takes_it_out_of_the_queue(moderator, challenge, pair, make_idea):
    _, target = pair
    pending = make_idea(challenge, state="pending")

    _merge(moderator, pending, target)

    stored = _fresh(Idea, pending.id)
    assert (stored.moderation_state, stored.queued_at) == ("merged", None)


def test_merge_closes_the_duplicates_open_flags(moderator, pair, make_user):
    duplicate, target = pair
    _flag(make_user(), duplicate)

    _merge(moderator, duplicate, target)

    stored = _fresh(Idea, duplicate.id)
    assert (stored.open_flag_count, stored.queued_at) == (0, None)
    assert _open_flags(idea_id=duplicate.id) == 0


@pytest.mark.parametrize("target_state", ["pending", "hidden", "rejected", "merged"])
def test_merge_into_an_unpublished_idea_is_refused(
    moderator, challenge, pair, make_idea, make_user, make_vote, target_state
):
    duplicate, _ = pair
    make_vote(make_user(), duplicate)
    target = make_idea(challenge, state=target_state)

    with pytest.raises(ValidationFailed) as raised:
        services.merge_idea(moderator, duplicate, target)
    db.session.rollback()

    assert raised.value.field == "target_id"
    stored = _fresh(Idea, duplicate.id)
    assert (stored.moderation_state, stored.merged_into_id, stored.vote_count) == (
        "published",
        None,
        1,
    )
    assert _records() == []


def test_merge_into_an_idea_of_another_challenge_is_refused(
    moderator, agency, pair, make_challenge, make_idea
):
    duplicate, _ = pair
    other = make_idea(make_challenge("open", agency=agency))

    with pytest.raises(ValidationFailed):
        services.merge_idea(moderator, duplicate, other)
    db.session.rollback()

    assert _fresh(Idea, duplicate.id).moderation_state == "published"
    assert _records() == []


def test_merge_into_itself_is_refused(moderator, pair):
    duplicate, _ = pair

    with pytest.raises(ValidationFailed):
        services.merge_idea(moderator, duplicate, duplicate)
    db.session.rollback()

    assert _fresh(Idea, duplicate.id).moderation_state == "published"
    assert _records() == []


@pytest.mark.parametrize("state", ["rejected", "changes_requested", "withdrawn", "merged"])
def test_merge_of_an_idea_in_a_final_or_authors_state_is_refused(
    moderator, challenge, pair, make_idea, state
):
    _, target = pair
    idea = make_idea(challenge, state=state)

    with pytest.raises(InvalidTransition):
        services.merge_idea(moderator, idea, target)
    db.session.rollback()

    assert _fresh(Idea, idea.id).moderation_state == state


# --- flag_content -----------------------------------------------------------------------


@pytest.fixture
def threshold(app):
    """Set the site's threshold of distinct reporters that hides an item."""

    def set_to(value: int):
        app.config["FLAG_HIDE_THRESHOLD"] = value

    set_to(3)
    return set_to


def test_flag_is_stored_with_its_reason_and_details(challenge, make_idea, make_user):
    idea = make_idea(challenge)
    reporter = make_user()

    _flag(reporter, idea, "other", "  Copied from a newspaper.  ")

    [flag] = db.session.scalars(select(Flag)).all()
    assert (flag.reporter_id, flag.idea_id, flag.comment_id) == (reporter.id, idea.id, None)
    assert (flag.reason, flag.details, flag.resolved_at) == (
        "other",
        "Copied from a newspaper.",
        None,
    )


def test_flag_puts_the_idea_in_the_queue(challenge, make_idea, make_user, threshold):
    idea = make_idea(challenge)
    assert idea.queued_at is None

    _flag(make_user(), idea)

    stored = _fresh(Idea, idea.id)
    assert (stored.open_flag_count, stored.moderation_state) == (1, "published")
    assert stored.queued_at is not None


def test_flag_on_a_comment_puts_it_in_the_queue(challenge, make_idea, make_user, threshold):
    comment = _comment(make_user, make_idea(challenge))

    _flag(make_user(), comment, "personal_data")

    stored = _fresh(Comment, comment.id)
    assert (stored.open_flag_count, stored.is_hidden) == (1, False)
    assert stored.queued_at is not None
    assert _open_flags(comment_id=comment.id) == 1


def test_further_flags_keep_the_items_place_in_the_queue(
    challenge, make_idea, make_user, threshold
):
    idea = make_idea(challenge)
    _flag(make_user(), idea)
    place = _fresh(Idea, idea.id).queued_at

    _flag(make_user(), idea)

    assert _fresh(Idea, idea.id).queued_at == place


@pytest.mark.parametrize("reason", ["spam", "offensive", "personal_data", "off_topic"])
def test_every_listed_reason_is_accepted_without_details(challenge, make_idea, make_user, reason):
    idea = make_idea(challenge)

    _flag(make_user(), idea, reason)

    assert db.session.scalar(select(Flag.reason)) == reason


def test_a_person_can_flag_an_item_only_once(challenge, make_idea, make_user, threshold):
    idea = make_idea(challenge)
    reporter = make_user()
    _flag(reporter, idea, "spam")

    with pytest.raises(ValidationFailed) as raised:
        services.flag_content(reporter, idea, "offensive")
    db.session.rollback()

    assert "already reported" in str(raised.value.message)
    assert db.session.scalar(select(func.count(Flag.id))) == 1
    assert _fresh(Idea, idea.id).open_flag_count == 1


def test_a_person_can_flag_a_comment_only_once(challenge, make_idea, make_user):
    comment = _comment(make_user, make_idea(challenge))
    reporter = make_user()
    _flag(reporter, comment)

    with pytest.raises(ValidationFailed):
        services.flag_content(reporter, comment, "spam")
    db.session.rollback()

    assert _fresh(Comment, comment.id).open_flag_count == 1


def test_unknown_flag_reason_is_refused(challenge, make_idea, make_user):
    idea = make_idea(challenge)

    with pytest.raises(ValidationFailed) as raised:
        services.flag_content(make_user(), idea, "boring")
    db.session.rollback()

    assert raised.value.field == "reason"
    assert db.session.scalar(select(func.count(Flag.id))) == 0


@pytest.mark.parametrize("details", [None, "", "   "])
def test_other_reason_needs_details(challenge, make_idea, make_user, details):
    idea = make_idea(challenge)

    with pytest.raises(ValidationFailed) as raised:
        services.flag_content(make_user(), idea, "other", details)
    db.session.rollback()

    assert raised.value.field == "details"
    assert _fresh(Idea, idea.id).open_flag_count == 0


def test_too_long_flag_details_are_refused(challenge, make_idea, make_user):
    idea = make_idea(challenge)

    with pytest.raises(ValidationFailed) as raised:
        services.flag_content(make_user(), idea, "other", "x" * (services.FLAG_DETAILS_MAX + 1))
    db.session.rollback()

    assert raised.value.field == "details"


def test_own_idea_cannot_be_flagged(challenge, author, make_idea):
    idea = make_idea(challenge, author=author)

    with pytest.raises(NotPermitted):
        services.flag_content(author, idea, "spam")
    db.session.rollback()

    assert db.session.scalar(select(func.count(Flag.id))) == 0


def test_unverified_person_cannot_flag(challenge, make_idea, make_user):
    idea = make_idea(challenge)

    with pytest.raises(NotPermitted):
        services.flag_content(make_user(verified=False), idea, "spam")
    db.session.rollback()

    assert _fresh(Idea, idea.id).open_flag_count == 0


@pytest.mark.parametrize("state", ["pending", "hidden", "rejected", "merged"])
def test_idea_that_is_not_published_cannot_be_flagged(challenge, make_idea, make_user, state):
    idea = make_idea(challenge, state=state)

    with pytest.raises(NotPermitted):
        services.flag_content(make_user(), idea, "spam")
    db.session.rollback()

    assert _fresh(Idea, idea.id).open_flag_count == 0


def test_hidden_comment_cannot_be_flagged(moderator, challenge, make_idea, make_user):
    comment = _comment(make_user, make_idea(challenge))
    services.moderate_comment(moderator, comment, "hide", "Rude.")
    db.session.commit()

    with pytest.raises(NotPermitted):
        services.flag_content(make_user(), comment, "spam")
    db.session.rollback()

    assert _fresh(Comment, comment.id).open_flag_count == 0


def test_idea_stays_public_below_the_threshold(challenge, make_idea, make_user, threshold):
    threshold(3)
    idea = make_idea(challenge)

    _flag_by(make_user, idea, 2)

    stored = _fresh(Idea, idea.id)
    assert (stored.moderation_state, stored.open_flag_count) == ("published", 2)
    assert _records() == []


def test_idea_is_hidden_when_distinct_flaggers_reach_the_threshold(
    agency, challenge, make_idea, make_user, threshold, mailbox
):
    threshold(3)
    idea = make_idea(challenge)

    _flag_by(make_user, idea, 3)

    stored = _fresh(Idea, idea.id)
    assert (stored.moderation_state, stored.open_flag_count) == ("hidden", 3)
    assert stored.moderation_reason.startswith("Hidden automatically after several reports")
    assert stored.queued_at is not None
    assert stored.challenge.idea_count == 0
    [record] = _records()
    assert (record.actor_id, record.agency_id, record.action) == (None, agency.id, "auto_hide")
    assert (record.from_state, record.to_state) == ("published", "hidden")
    assert mailbox == []


def test_comment_is_hidden_when_distinct_flaggers_reach_the_threshold(
    challenge, make_idea, make_user, threshold
):
    threshold(2)
    idea = make_idea(challenge)
    comment = _comment(make_user, idea)

    _flag_by(make_user, comment, 2, "spam")

    stored = _fresh(Comment, comment.id)
    assert (stored.is_hidden, stored.open_flag_count) == (True, 2)
    assert stored.queued_at is not None
    [record] = _records()
    assert (record.action, record.idea_id, record.comment_id) == ("auto_hide", idea.id, comment.id)
    assert (record.from_state, record.to_state) == ("visible", "hidden")


def test_threshold_counts_distinct_flaggers_not_flags(challenge, make_idea, make_user, threshold):
    threshold(2)
    idea = make_idea(challenge)
    reporter = make_user()
    _flag(reporter, idea)

    with pytest.raises(ValidationFailed):
        services.flag_content(reporter, idea, "offensive")
    db.session.rollback()

    assert _fresh(Idea, idea.id).moderation_state == "published"


def test_threshold_is_read_from_the_configuration(challenge, make_idea, make_user, threshold):
    threshold(1)
    idea = make_idea(challenge)

    _flag(make_user(), idea)

    assert _fresh(Idea, idea.id).moderation_state == "hidden"


def test_flags_dismissed_earlier_do_not_count_towards_the_threshold(
    moderator, challenge, make_idea, make_user, threshold
):
    threshold(2)
    idea = make_idea(challenge)
    _flag(make_user(), idea)
    services.dismiss_flags(moderator, idea, "Nothing wrong.")
    db.session.commit()

    _flag(make_user(), idea)

    stored = _fresh(Idea, idea.id)
    assert (stored.moderation_state, stored.open_flag_count) == ("published", 1)


# --- dismiss_flags and uphold_flags -----------------------------------------------------


@pytest.fixture
def auto_hidden_idea(challenge, make_idea, make_user, author, threshold):
    threshold(2)
    idea = make_idea(challenge, author=author, title="Benches")
    _flag_by(make_user, idea, 2)
    assert _fresh(Idea, idea.id).moderation_state == "hidden"
    return idea


@pytest.fixture
def auto_hidden_comment(challenge, make_idea, make_user, author, threshold):
    threshold(2)
    idea = make_idea(challenge, title="Benches")
    comment = ideas.add_comment(author, idea, "Buy cheap watches")
    db.session.commit()
    _flag_by(make_user, comment, 2, "spam")
    assert _fresh(Comment, comment.id).is_hidden
    return comment


def test_dismiss_flags_restores_an_idea_hidden_by_flags(moderator, auto_hidden_idea):
    services.dismiss_flags(moderator, auto_hidden_idea, "The reports are unfounded.")
    db.session.commit()

    stored = _fresh(Idea, auto_hidden_idea.id)
    assert (stored.moderation_state, stored.moderation_reason) == ("published", None)
    assert (stored.open_flag_count, stored.queued_at) == (0, None)
    assert stored.challenge.idea_count == 1
    assert _open_flags(idea_id=stored.id) == 0


def test_dismiss_flags_restores_a_comment_hidden_by_flags(moderator, auto_hidden_comment):
    services.dismiss_flags(moderator, auto_hidden_comment, "Not spam.")
    db.session.commit()

    stored = _fresh(Comment, auto_hidden_comment.id)
    assert (stored.moderation_state, stored.moderation_reason) == ("visible", None)
    assert (stored.open_flag_count, stored.queued_at) == (0, None)
    assert _open_flags(comment_id=stored.id) == 0


def test_dismiss_flags_of_a_visible_idea_closes_the_reports(
    moderator, challenge, make_idea, make_user, threshold
):
    idea = make_idea(challenge)
    _flag(make_user(), idea)

    services.dismiss_flags(moderator, idea, "Fine as it is.")
    db.session.commit()

    stored = _fresh(Idea, idea.id)
    assert (stored.moderation_state, stored.open_flag_count, stored.queued_at) == (
        "published",
        0,
        None,
    )
    assert db.session.scalar(select(Flag.resolved_at)) is not None


def test_dismiss_flags_writes_an_audit_record(moderator, agency, auto_hidden_idea):
    services.dismiss_flags(moderator, auto_hidden_idea, "Unfounded.")
    db.session.commit()

    record = _records()[-1]
    assert (record.actor_id, record.agency_id, record.idea_id, record.comment_id) == (
        moderator.id,
        agency.id,
        auto_hidden_idea.id,
        None,
    )
    assert (record.action, record.from_state, record.to_state, record.reason) == (
        "dismiss_flags",
        "hidden",
        "published",
        "Unfounded.",
    )


def test_dismiss_flags_of_a_comment_writes_an_audit_record(moderator, auto_hidden_comment):
    services.dismiss_flags(moderator, auto_hidden_comment, "Not spam.")
    db.session.commit()

    record = _records()[-1]
    assert (record.idea_id, record.comment_id) == (
        auto_hidden_comment.idea_id,
        auto_hidden_comment.id,
    )
    assert (record.action, record.from_state, record.to_state, record.reason) == (
        "dismiss_flags",
        "hidden",
        "visible",
        "Not spam.",
    )


def test_dismiss_flags_tells_the_author_their_idea_is_back(moderator, auto_hidden_idea, mailbox):
    services.dismiss_flags(moderator, auto_hidden_idea, "The reports are unfounded.")
    db.session.commit()

    [message] = mailbox
    assert message["To"] == "author@example.org"
    assert message["Subject"] == "Reports about your idea “Benches” were dismissed"
    assert "It is visible again." in message.get_content()
    assert "The reports are unfounded." in message.get_content()


def test_dismiss_flags_of_a_visible_idea_tells_the_author(
    moderator, challenge, author, make_idea, make_user, threshold, mailbox
):
    idea = make_idea(challenge, author=author, title="Benches")
    _flag(make_user(), idea)

    services.dismiss_flags(moderator, idea, "Fine as it is.")
    db.session.commit()

    [message] = mailbox
    assert message["Subject"] == "Reports about your idea “Benches” were dismissed"
    assert "visible again" not in message.get_content()
    assert "Fine as it is." in message.get_content()


def test_dismiss_flags_tells_the_author_their_comment_is_back(
    moderator, auto_hidden_comment, mailbox
):
    services.dismiss_flags(moderator, auto_hidden_comment, "Not spam.")
    db.session.commit()

    [message] = mailbox
    assert message["To"] == "author@example.org"
    assert message["Subject"] == "Reports about your comment were dismissed"
    assert "your comment on “Benches”" in message.get_content()
    assert "It is visible again." in message.get_content()
    assert "Not spam." in message.get_content()


@pytest.mark.parametrize("reason", [None, "", "  "])
def test_dismiss_flags_requires_a_reason(moderator, auto_hidden_idea, reason):
    with pytest.raises(ValidationFailed) as raised:
        services.dismiss_flags(moderator, auto_hidden_idea, reason)
    db.session.rollback()

    assert raised.value.field == "reason"
    stored = _fresh(Idea, auto_hidden_idea.id)
    assert (stored.moderation_state, stored.open_flag_count) == ("hidden", 2)


def test_dismiss_flags_without_open_reports_is_refused(moderator, challenge, make_idea):
    idea = make_idea(challenge, state="hidden")

    with pytest.raises(InvalidTransition):
        services.dismiss_flags(moderator, idea, "Nothing to see.")
    db.session.rollback()

    assert _fresh(Idea, idea.id).moderation_state == "hidden"
    assert _records() == []


def test_uphold_flags_keeps_an_idea_hidden_and_closes_the_reports(moderator, auto_hidden_idea):
    services.uphold_flags(moderator, auto_hidden_idea, "Advertising.")
    db.session.commit()

    stored = _fresh(Idea, auto_hidden_idea.id)
    assert (stored.moderation_state, stored.moderation_reason) == ("hidden", "Advertising.")
    assert (stored.open_flag_count, stored.queued_at) == (0, None)
    assert _open_flags(idea_id=stored.id) == 0
    record = _records()[-1]
    assert (record.actor_id, record.action, record.from_state, record.to_state, record.reason) == (
        moderator.id,
        "uphold_flags",
        "hidden",
        "hidden",
        "Advertising.",
    )


def test_uphold_flags_hides_a_flagged_idea_still_visible(
    moderator, challenge, make_idea, make_user, threshold
):
    idea = make_idea(challenge)
    _flag(make_user(), idea)

    services.uphold_flags(moderator, idea, "Advertising.")
    db.session.commit()

    stored = _fresh(Idea, idea.id)
    assert (stored.moderation_state, stored.open_flag_count, stored.queued_at) == (
        "hidden",
        0,
        None,
    )
    record = _records()[-1]
    assert (record.action, record.from_state, record.to_state) == ("hide", "published", "hidden")


def test_uphold_flags_keeps_a_comment_hidden(moderator, auto_hidden_comment):
    services.uphold_flags(moderator, auto_hidden_comment, "Spam.")
    db.session.commit()

    stored = _fresh(Comment, auto_hidden_comment.id)
    assert (stored.moderation_state, stored.moderation_reason) == ("hidden", "Spam.")
    assert (stored.open_flag_count, stored.queued_at) == (0, None)
    record = _records()[-1]
    assert (record.action, record.comment_id, record.from_state, record.to_state) == (
        "uphold_flags",
        stored.id,
        "hidden",
        "hidden",
    )


def test_uphold_flags_emails_the_author(moderator, auto_hidden_idea, mailbox):
    services.uphold_flags(moderator, auto_hidden_idea, "Advertising.")
    db.session.commit()

    [message] = mailbox
    assert message["Subject"] == "Your idea “Benches” was hidden"
    assert "Advertising." in message.get_content()


def test_uphold_flags_requires_a_reason(moderator, auto_hidden_comment):
    with pytest.raises(ValidationFailed) as raised:
        services.uphold_flags(moderator, auto_hidden_comment, " ")
    db.session.rollback()

    assert raised.value.field == "reason"
    assert _fresh(Comment, auto_hidden_comment.id).open_flag_count == 2


def test_uphold_flags_without_open_reports_is_refused(moderator, challenge, make_idea):
    idea = make_idea(challenge)

    with pytest.raises(InvalidTransition):
        services.uphold_flags(moderator, idea, "Spam.")
    db.session.rollback()

    assert _fresh(Idea, idea.id).moderation_state == "published"


# --- moderate_comment -------------------------------------------------------------------


def test_hide_comment_requires_a_reason(moderator, challenge, make_idea, make_user):
    comment = _comment(make_user, make_idea(challenge))

    with pytest.raises(ValidationFailed) as raised:
        services.moderate_comment(moderator, comment, "hide", "")
    db.session.rollback()

    assert raised.value.field == "reason"
    assert _fresh(Comment, comment.id).is_hidden is False


def test_hide_comment_records_and_emails(moderator, agency, challenge, make_idea, author, mailbox):
    idea = make_idea(challenge, title="Benches")
    comment = ideas.add_comment(author, idea, "Rude words")
    db.session.commit()

    services.moderate_comment(moderator, comment, "hide", "Rude.")
    db.session.commit()

    stored = _fresh(Comment, comment.id)
    assert (stored.moderation_state, stored.moderation_reason) == ("hidden", "Rude.")
    [record] = _records()
    assert (record.actor_id, record.agency_id, record.idea_id, record.comment_id) == (
        moderator.id,
        agency.id,
        idea.id,
        comment.id,
    )
    assert (record.action, record.from_state, record.to_state, record.reason) == (
        "comment_hide",
        "visible",
        "hidden",
        "Rude.",
    )
    [message] = mailbox
    assert (message["To"], message["Subject"]) == ("author@example.org", "Your comment was hidden")


def test_restore_comment_makes_it_visible_again(
    moderator, challenge, make_idea, make_user, mailbox
):
    comment = _comment(make_user, make_idea(challenge))
    services.moderate_comment(moderator, comment, "hide", "Rude.")
    db.session.commit()

    services.moderate_comment(moderator, comment, "restore")
    db.session.commit()

    stored = _fresh(Comment, comment.id)
    assert (stored.moderation_state, stored.moderation_reason) == ("visible", None)
    assert [r.action for r in _records()] == ["comment_hide", "comment_restore"]
    assert mailbox[-1]["Subject"] == "Your comment is visible again"


def test_hide_comment_closes_its_flags(moderator, challenge, make_idea, make_user, threshold):
    comment = _comment(make_user, make_idea(challenge))
    _flag(make_user(), comment)

    services.moderate_comment(moderator, comment, "hide", "Rude.")
    db.session.commit()

    stored = _fresh(Comment, comment.id)
    assert (stored.open_flag_count, stored.queued_at) == (0, None)


# --- risk flags -------------------------------------------------------------------------


def test_set_risk_flag_stores_kind_and_note(moderator, agency, challenge, make_idea):
    idea = make_idea(challenge)

    services.set_risk_flag(moderator, idea, "privacy", "  Names a neighbour.  ")
    db.session.commit()

    [risk] = db.session.scalars(select(RiskFlag)).all()
    assert (risk.idea_id, risk.kind, risk.note, risk.set_by_id) == (
        idea.id,
        "privacy",
        "Names a neighbour.",
        moderator.id,
    )
    [record] = _records()
    assert (record.actor_id, record.agency_id, record.action, record.to_state, record.reason) == (
        moderator.id,
        agency.id,
        "risk_set",
        "privacy",
        "Names a neighbour.",
    )


def test_setting_a_risk_again_updates_its_note(moderator, challenge, make_idea, make_user):
    idea = make_idea(challenge)
    services.set_risk_flag(moderator, idea, "safety", "Busy road.")
    db.session.commit()

    services.set_risk_flag(moderator, idea, "safety", "Busy road near a school.")
    db.session.commit()

    [risk] = db.session.scalars(select(RiskFlag)).all()
    assert risk.note == "Busy road near a school."
    assert len(_records()) == 2


def test_several_kinds_of_risk_can_be_set(moderator, challenge, make_idea):
    idea = make_idea(challenge)

    for kind in ("privacy", "safety", "legal", "accessibility"):
        services.set_risk_flag(moderator, idea, kind, f"A {kind} risk.")
    db.session.commit()

    assert [r.kind for r in _fresh(Idea, idea.id).risk_flags] == [
        "accessibility",
        "legal",
        "privacy",
        "safety",
    ]


def test_unknown_risk_kind_is_refused(moderator, challenge, make_idea):
    idea = make_idea(challenge)

    with pytest.raises(ValidationFailed) as raised:
        services.set_risk_flag(moderator, idea, "financial", "Costly.")
    db.session.rollback()

    assert raised.value.field == "kind"
    assert db.session.scalar(select(func.count(RiskFlag.id))) == 0


@pytest.mark.parametrize("note", ["", "   "])
def test_risk_flag_needs_a_note(moderator, challenge, make_idea, note):
    idea = make_idea(challenge)

    with pytest.raises(ValidationFailed) as raised:
        services.set_risk_flag(moderator, idea, "legal", note)
    db.session.rollback()

    assert raised.value.field == "note"
    assert _records() == []


def test_clear_risk_flag_removes_it(moderator, challenge, make_idea):
    idea = make_idea(challenge)
    services.set_risk_flag(moderator, idea, "legal", "Copyright.")
    db.session.commit()

    services.clear_risk_flag(moderator, idea, "legal")
    db.session.commit()

    assert db.session.scalar(select(func.count(RiskFlag.id))) == 0
    record = _records()[-1]
    assert (record.action, record.from_state, record.to_state, record.reason) == (
        "risk_cleared",
        "legal",
        None,
        "Copyright.",
    )


def test_clearing_a_risk_that_is_not_set_is_refused(moderator, challenge, make_idea):
    idea = make_idea(challenge)

    with pytest.raises(InvalidTransition):
        services.clear_risk_flag(moderator, idea, "legal")
    db.session.rollback()

    assert _records() == []


# --- moderation target ------------------------------------------------------------------


@pytest.mark.parametrize("hours", [1, 24, 720])
def test_agency_admin_sets_the_moderation_target(make_user, make_agency, hours):
    admin = make_user()
    agency = make_agency(members=[(admin, "admin")])

    services.set_moderation_target(admin, agency, hours)
    db.session.commit()

    db.session.expire_all()
    assert agency.moderation_target_hours == hours


def test_moderation_target_defaults_to_48_hours(agency):
    assert agency.moderation_target_hours == 48


def test_site_admin_sets_the_target_of_any_agency(agency, make_user):
    services.set_moderation_target(make_user(is_admin=True), agency, 12)
    db.session.commit()

    db.session.expire_all()
    assert agency.moderation_target_hours == 12


@pytest.mark.parametrize("hours", [0, -1, 721, 10_000])
def test_moderation_target_out_of_range_is_refused(make_user, make_agency, hours):
    admin = make_user()
    agency = make_agency(members=[(admin, "admin")])

    with pytest.raises(ValidationFailed) as raised:
        services.set_moderation_target(admin, agency, hours)
    db.session.rollback()

    assert raised.value.field == "hours"
    db.session.expire_all()
    assert agency.moderation_target_hours == 48


# --- the audit trail is append-only -----------------------------------------------------


@pytest.fixture
def record(moderator, challenge, make_idea):
    _decide(moderator, make_idea(challenge, state="pending"), "reject", "Out of scope.")
    return _records()[0]


def test_moderation_action_cannot_be_updated(record):
    record.reason = "Something nicer."

    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()

    assert _fresh(ModerationAction, record.id).reason == "Out of scope."


def test_moderation_action_cannot_be_deleted(record):
    db.session.delete(record)

    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()

    assert len(_records()) == 1


def test_every_service_appends_and_never_rewrites(
    moderator, challenge, make_idea, make_user, threshold
):
    idea = make_idea(challenge, state="pending")
    _decide(moderator, idea, "publish")
    first = [(r.id, r.action, r.reason, r.created_at) for r in _records()]

    _flag(make_user(), idea)
    services.dismiss_flags(moderator, idea, "Fine.")
    services.set_risk_flag(moderator, idea, "privacy", "A name.")
    services.clear_risk_flag(moderator, idea, "privacy")
    _decide(moderator, idea, "hide", "Later found spam.")

    records = _records()
    assert [(r.id, r.action, r.reason, r.created_at) for r in records[:1]] == first
    assert [r.action for r in records] == [
        "publish",
        "dismiss_flags",
        "risk_set",
        "risk_cleared",
        "hide",
    ]
    assert all(r.created_at <= now_utc() + timedelta(seconds=1) for r in records)


def test_restoring_an_idea_hidden_by_reports_closes_them_and_leaves_the_queue(
    moderator, auto_hidden_idea
):
    services.moderate_idea(moderator, auto_hidden_idea, "restore")
    db.session.commit()

    stored = _fresh(Idea, auto_hidden_idea.id)
    assert stored.moderation_state == "published"
    assert (stored.open_flag_count, stored.queued_at) == (0, None)
    assert _open_flags(idea_id=stored.id) == 0


def test_restoring_a_comment_hidden_by_reports_closes_them(moderator, auto_hidden_comment):
    services.moderate_comment(moderator, auto_hidden_comment, "restore")
    db.session.commit()

    stored = _fresh(Comment, auto_hidden_comment.id)
    assert not stored.is_hidden
    assert (stored.open_flag_count, stored.queued_at) == (0, None)
