"""Challenge phases: derived from the timeline by a pure function, and what each allows."""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

DRAFT, UPCOMING, OPEN, VOTING, REVIEW, CLOSED = (
    "draft",
    "upcoming",
    "open",
    "voting",
    "review",
    "closed",
)
PHASES = (DRAFT, UPCOMING, OPEN, VOTING, REVIEW, CLOSED)


@dataclass(frozen=True)
class PhaseRules:
    """What a phase allows: submitting ideas, editing them (while they wait for a
    moderator), voting, commenting, the agency's decisions, and being seen by the public.
    Each column is read by the permission predicate of its action."""

    label: object
    submit: bool
    edit: bool
    vote: bool
    comment: bool
    decide: bool
    public: bool


# fmt: off
PHASE_RULES = {
    #                                        submit edit   vote   comment decide public
    DRAFT:    PhaseRules(_l("Draft"),          False, False, False, False,  False, False),
    UPCOMING: PhaseRules(_l("Opening soon"),   False, False, False, False,  False, True),
    OPEN:     PhaseRules(_l("Open for ideas"), True,  True,  True,  True,   True,  True),
    VOTING:   PhaseRules(_l("Voting"),         False, True,  True,  True,   True,  True),
    REVIEW:   PhaseRules(_l("In review"),      False, False, False, True,   True,  True),
    CLOSED:   PhaseRules(_l("Closed"),         False, False, False, False,  False, True),
}
# fmt: on


def phase_at(
    now: datetime,
    *,
    published_at: datetime | None,
    opens_at: datetime,
    submissions_close_at: datetime,
    voting_closes_at: datetime,
    closed_at: datetime | None,
) -> str:
    """Return the phase a challenge with this timeline is in at `now`."""
    if published_at is None:
        return DRAFT
    if closed_at is not None and now >= closed_at:
        return CLOSED
    if now < opens_at:
        return UPCOMING
    if now < submissions_close_at:
        return OPEN
    if now < voting_closes_at:
        return VOTING
    return REVIEW
