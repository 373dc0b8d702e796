"""Challenge phases: the pure phase function, what each phase allows, and its SQL twin."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engage.challenges import queries, states
from engage.challenges.models import Challenge
from engage.db import now_utc
from engage.extensions import db

OPENS = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
SUBMISSIONS_CLOSE = datetime(2030, 4, 1, 9, 0, tzinfo=UTC)
VOTING_CLOSES = datetime(2030, 4, 15, 9, 0, tzinfo=UTC)
PUBLISHED = OPENS - timedelta(days=14)
TICK = timedelta(microseconds=1)


def _phase(
    now,
    *,
    published_at=PUBLISHED,
    opens_at=OPENS,
    submissions_close_at=SUBMISSIONS_CLOSE,
    voting_closes_at=VOTING_CLOSES,
    closed_at=None,
) -> str:
    return states.phase_at(
        now,
        published_at=published_at,
        opens_at=opens_at,
        submissions_close_at=submissions_close_at,
        voting_closes_at=voting_closes_at,
        closed_at=closed_at,
    )


@pytest.mark.parametrize(
    ("now", "phase"),
    [
        (PUBLISHED, states.UPCOMING),
        (OPENS - TICK, states.UPCOMING),
        (OPENS, states.OPEN),
        (SUBMISSIONS_CLOSE - TICK, states.OPEN),
        (SUBMISSIONS_CLOSE, states.VOTING),
        (VOTING_CLOSES - TICK, states.VOTING),
        (VOTING_CLOSES, states.REVIEW),
        (VOTING_CLOSES + timedelta(days=3650), states.REVIEW),
    ],
)
def test_phase_at_each_boundary_of_the_timeline(now, phase):
    assert _phase(now) == phase


@pytest.mark.parametrize("now", [OPENS - TICK, OPENS, SUBMISSIONS_CLOSE, VOTING_CLOSES])
def test_unpublished_challenge_is_draft_whatever_the_date(now):
    assert _phase(now, published_at=None) == states.DRAFT
    assert _phase(now, published_at=None, closed_at=OPENS) == states.DRAFT


def test_closed_from_the_closing_moment_on():
    closed_at = VOTING_CLOSES + timedelta(days=5)

    assert _phase(closed_at - TICK, closed_at=closed_at) == states.REVIEW
    assert _phase(closed_at, closed_at=closed_at) == states.CLOSED
    assert _phase(closed_at + timedelta(days=365), closed_at=closed_at) == states.CLOSED


@pytest.mark.parametrize("now", [OPENS - TICK, OPENS, SUBMISSIONS_CLOSE])
def test_early_closing_ends_every_phase(now):
    assert _phase(now, closed_at=OPENS - timedelta(days=1)) == states.CLOSED


def test_closing_date_in_the_future_does_not_close_yet():
    assert _phase(OPENS, closed_at=OPENS + timedelta(days=1)) == states.OPEN


def test_no_voting_phase_when_voting_closes_with_submissions():
    assert _phase(SUBMISSIONS_CLOSE - TICK, voting_closes_at=SUBMISSIONS_CLOSE) == states.OPEN
    assert _phase(SUBMISSIONS_CLOSE, voting_closes_at=SUBMISSIONS_CLOSE) == states.REVIEW


def test_phase_at_does_not_read_the_clock():
    long_ago = datetime(2001, 1, 1, tzinfo=UTC)

    assert _phase(long_ago) == states.UPCOMING


# fmt: off
#                 submit edit   vote   comment decide public
EXPECTED_RULES = {
    states.DRAFT:    (False, False, False, False, False, False),
    states.UPCOMING: (False, False, False, False, False, True),
    states.OPEN:     (True,  True,  True,  True,  True,  True),
    states.VOTING:   (False, True,  True,  True,  True,  True),
    states.REVIEW:   (False, False, False, True,  True,  True),
    states.CLOSED:   (False, False, False, False, False, True),
}
# fmt: on


def test_every_phase_has_rules():
    assert set(states.PHASE_RULES) == set(states.PHASES) == set(EXPECTED_RULES)


@pytest.mark.parametrize("phase", states.PHASES)
def test_phase_rules_say_what_each_phase_allows(phase):
    rules = states.PHASE_RULES[phase]

    allowed = (rules.submit, rules.edit, rules.vote, rules.comment, rules.decide, rules.public)
    assert allowed == EXPECTED_RULES[phase]
    assert str(rules.label)


@pytest.mark.parametrize("phase", states.PHASES)
def test_challenge_rules_are_those_of_its_phase(make_challenge, phase):
    challenge = make_challenge(phase)

    assert challenge.phase() == phase
    assert challenge.rules() is states.PHASE_RULES[phase]


def _ids_by_condition(now) -> dict[str, set[int]]:
    return {
        phase: set(
            db.session.scalars(select(Challenge.id).where(queries.phase_condition(phase, now)))
        )
        for phase in states.PHASES
    }


def _ids_by_function(now) -> dict[str, set[int]]:
    found = {phase: set() for phase in states.PHASES}
    for challenge in db.session.scalars(select(Challenge)):
        found[challenge.phase(now)].add(challenge.id)
    return found


def test_phase_condition_agrees_with_phase_at_in_every_phase(make_challenge, make_agency):
    agency = make_agency()
    made = {phase: make_challenge(phase, agency=agency).id for phase in states.PHASES}
    db.session.expire_all()
    now = now_utc()

    by_condition = _ids_by_condition(now)

    assert by_condition == _ids_by_function(now)
    assert by_condition == {phase: {made[phase]} for phase in states.PHASES}


def _add_challenge(
    agency,
    number,
    *,
    opens_at,
    submissions_close_at,
    voting_closes_at,
    published_at=PUBLISHED,
    closed_at=None,
) -> Challenge:
    challenge = Challenge(
        agency=agency,
        title=f"Edge {number}",
        slug=f"edge-{number}",
        summary="Edge case",
        opens_at=opens_at,
        submissions_close_at=submissions_close_at,
        voting_closes_at=voting_closes_at,
        published_at=published_at,
        closed_at=closed_at,
    )
    db.session.add(challenge)
    return challenge


def test_phase_condition_agrees_with_phase_at_on_the_boundaries(make_agency):
    agency = make_agency()
    now = SUBMISSIONS_CLOSE
    day = timedelta(days=1)
    timelines = [
        dict(opens_at=now, submissions_close_at=now + day, voting_closes_at=now + 2 * day),
        dict(opens_at=now + TICK, submissions_close_at=now + day, voting_closes_at=now + day),
        dict(opens_at=now - day, submissions_close_at=now, voting_closes_at=now + day),
        dict(opens_at=now - day, submissions_close_at=now + TICK, voting_closes_at=now + day),
        dict(opens_at=now - 2 * day, submissions_close_at=now - day, voting_closes_at=now),
        dict(opens_at=now - 2 * day, submissions_close_at=now - day, voting_closes_at=now + TICK),
        dict(opens_at=now - day, submissions_close_at=now, voting_closes_at=now),
        dict(
            opens_at=now - day,
            submissions_close_at=now + day,
            voting_closes_at=now + day,
            closed_at=now,
        ),
        dict(
            opens_at=now - day,
            submissions_close_at=now + day,
            voting_closes_at=now + day,
            closed_at=now + TICK,
        ),
        dict(
            opens_at=now + day,
            submissions_close_at=now + 2 * day,
            voting_closes_at=now + 3 * day,
            closed_at=now - day,
        ),
        dict(
            opens_at=now - day,
            submissions_close_at=now + day,
            voting_closes_at=now + day,
            published_at=None,
        ),
        dict(
            opens_at=now - 3 * day,
            submissions_close_at=now - 2 * day,
            voting_closes_at=now - day,
            published_at=None,
            closed_at=now - day,
        ),
    ]
    for number, timeline in enumerate(timelines):
        _add_challenge(agency, number, **timeline)
    db.session.commit()
    db.session.expire_all()

    by_function = _ids_by_function(now)

    assert _ids_by_condition(now) == by_function
    assert all(by_function[phase] for phase in states.PHASES)


def test_each_challenge_meets_exactly_one_phase_condition(make_challenge, make_agency):
    agency = make_agency()
    for phase in states.PHASES:
        make_challenge(phase, agency=agency)
    now = now_utc()

    matches = [cid for ids in _ids_by_condition(now).values() for cid in ids]

    assert sorted(matches) == sorted(db.session.scalars(select(Challenge.id)))
