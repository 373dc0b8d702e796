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
    label: object
    submit: bool
    vote: bool
    comment: bool
    decide: bool
    public: bool


PHASE_RULES = {
    DRAFT: PhaseRules(
        _l("Draft"), submit=False, vote=False, comment=False, decide=False, public=False
    ),
    UPCOMING: PhaseRules(
        _l("Opening soon"), submit=False, vote=False, comment=False, decide=False, public=True
    ),
    OPEN: PhaseRules(
        _l("Open for ideas"), submit=True, vote=True, comment=True, decide=True, public=True
    ),
    VOTING: PhaseRules(
        _l("Voting"), submit=False, vote=True, comment=True, decide=True, public=True
    ),
    REVIEW: PhaseRules(
        _l("In review"), submit=False, vote=False, comment=True, decide=True, public=True
    ),
    CLOSED: PhaseRules(
        _l("Closed"), submit=False, vote=False, comment=False, decide=False, public=True
    ),
}


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
