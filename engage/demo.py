"""Demo data for `flask --app engage demo`: two agencies, their challenges, ideas in every
state, votes, comments, reports, decisions and pipeline progress.

Loaded once (it checks for the demo agency) and never in production.
"""

from datetime import timedelta

from sqlalchemy import select

from engage.agencies.models import Agency, Membership
from engage.auth.models import User
from engage.challenges.models import Challenge
from engage.challenges.tags import resolve_tags
from engage.db import now_utc
from engage.errors import LimitReached
from engage.extensions import db
from engage.ideas import decisions, states
from engage.ideas import services as ideas
from engage.ideas.models import Idea
from engage.moderation.services import flag_content
from engage.text import render_markdown

DEMO_PASSWORD = "engage-demo"
DEMO_AGENCY_SLUG = "city-of-example"
DEMO_ACCOUNTS = [
    ("admin@example.org", "site admin"),
    ("agency@example.org", "agency admin, City of Example"),
    ("moderator@example.org", "moderator, City of Example"),
    ("citizen@example.org", "citizen"),
    ("business@example.org", "business, Example Works Ltd"),
    ("harbour@example.org", "agency admin, Harbour Authority"),
]

GREEN_IDEAS = [
    (
        "Plant fruit trees in Riverside Park",
        "Shade in summer and free fruit for everyone. "
        "The **community garden group** offered to look after them.",
    ),
    (
        "Protected bike lanes on Main Street",
        "Painted lines are not enough: a kerb between "
        "cars and bikes would make families ride to school.",
    ),
    (
        "Rain gardens instead of storm drains",
        "Low planted beds soak up heavy rain and cut flooding on *Elm Road*.",
    ),
    (
        "Repair café in the library",
        "Once a month, volunteers fix toasters, bikes and "
        "clothes. Less waste, more neighbours meeting.",
    ),
    (
        "Solar panels on school roofs",
        "The schools' flat roofs could power the schools and teach pupils about energy.",
    ),
    ("Water refill stations downtown", "Free drinking water to cut plastic bottles."),
    ("Car-free Sundays in the old town", "Open the streets to people one Sunday a month."),
    ("Compost collection for flats", "Brown bins for apartment buildings, not only houses."),
    ("Wildflower verges", "Mow roadside verges twice a year instead of every month."),
    ("Tool library", "Borrow a drill instead of buying one you use twice a year."),
    ("Electric bus line to the station", "A quiet, clean shuttle every ten minutes."),
    ("Shade sails at playgrounds", "Children cannot play in full sun in July."),
    ("Urban beekeeping on city buildings", "Hives on roofs, honey for the food bank."),
    ("Street tree adoption", "Residents water the young tree outside their door."),
    ("Cool roofs programme", "White roofs keep top-floor flats bearable in heatwaves."),
    ("Seed library", "Swap local seeds at the library desk."),
    ("Bike parking at every tram stop", "Safe, covered racks so people combine both."),
    ("Reuse centre at the recycling yard", "Let people take what others bring."),
]

SERVICE_IDEAS = [
    (
        "Book appointments online",
        "Stop queuing at the town hall: book a slot online and get a reminder by text message.",
    ),
    ("One form for moving house", "Tell the city once and every service is updated."),
    ("Plain-language letters", "Letters anyone can understand, tested with residents."),
    ("Open data on pot-hole repairs", "Publish reports and repair times as open data."),
    ("Evening opening on Thursdays", "People who work all day need the desks open later."),
    ("Sign language video calls", "Deaf residents should reach every service directly."),
    ("Status tracker for permits", "See where your building permit is, like a parcel."),
    ("Library card as city pass", "One card for libraries, pools and museums."),
    ("Accessible PDF forms", "Forms that screen readers can fill in."),
    ("Multilingual help desk", "Help in the five most spoken languages of the city."),
    ("Fix-it app for street lights", "Report a broken light with a photo and its place."),
    ("Benches on the way to the clinic", "Older people need somewhere to rest."),
    ("Chat with the council in the evening", "A monthly online Q&A with councillors."),
    ("Pay fines in instalments", "Small monthly payments instead of one large bill."),
]

IDEA_TAGS = ["nature, shade", "mobility", "water", "waste, reuse", "energy", "access, digital"]

COMMENTS = [
    "Great idea, I would use this every week.",
    "Has this been tried in another city? It would help to know the costs.",
    "I agree, but please think of people who use wheelchairs.",
    "Our neighbourhood association would be happy to help.",
    "This came up at the last district meeting too.",
]


def _challenge(**fields) -> Challenge:
    return Challenge(body_html=str(render_markdown(fields["body"])), **fields)


def _user(email: str, name: str, **extra) -> User:
    user = User(email=email, display_name=name, email_verified_at=now_utc(), **extra)
    user.set_password(DEMO_PASSWORD)
    db.session.add(user)
    return user


def load_demo_data() -> bool:
    """Create the demo agency, people, challenges, ideas, votes and comments.

    Returns False (and changes nothing) if the demo agency already exists.
    """
    if db.session.scalar(select(Agency).where(Agency.slug == DEMO_AGENCY_SLUG)):
        return False
    now = now_utc()
    _user("admin@example.org", "Site Admin", is_admin=True)
    agency_admin = _user("agency@example.org", "Alex Agency")
    moderator = _user("moderator@example.org", "Morgan Moderator")
    citizen = _user("citizen@example.org", "Chris Citizen")
    business = _user(
        "business@example.org",
        "Bo Business",
        account_type="business",
        organisation_name="Example Works Ltd",
    )
    neighbours = [_user(f"resident{n}@example.org", f"Resident {n}") for n in range(1, 13)]
    agency = Agency(
        name="City of Example",
        slug=DEMO_AGENCY_SLUG,
        description="The city council of Example.",
        website="https://example.org",
    )
    db.session.add(agency)
    db.session.add_all(
        [
            Membership(agency=agency, user=agency_admin, role="admin"),
            Membership(agency=agency, user=moderator, role="moderator"),
        ]
    )
    green = _challenge(
        agency=agency,
        slug="greener-city",
        title="A greener, cooler city",
        summary="How can we make Example greener and cooler in hot summers?",
        body="Summers are getting hotter. We are looking for ideas that bring **shade, "
        "water and nature** into every neighbourhood.\n\n- Small and quick ideas are "
        "welcome\n- So are big ones",
        opens_at=now - timedelta(days=10),
        submissions_close_at=now + timedelta(days=20),
        voting_closes_at=now + timedelta(days=30),
        published_at=now - timedelta(days=10),
        moderation_mode="post",
        vote_limit=None,
        allow_business=True,
        tags=resolve_tags(["environment", "climate"]),
    )
    services_challenge = _challenge(
        agency=agency,
        slug="better-city-services",
        title="Better city services",
        summary="Which city services should be easier, faster or fairer?",
        body="Tell us where dealing with the city is hard, and how to fix it.",
        opens_at=now - timedelta(days=40),
        submissions_close_at=now - timedelta(days=5),
        voting_closes_at=now + timedelta(days=10),
        published_at=now - timedelta(days=40),
        moderation_mode="pre",
        vote_limit=5,
        allow_business=True,
        tags=resolve_tags(["services", "digital"]),
    )
    db.session.add_all([green, services_challenge])
    db.session.flush()

    authors = [citizen, business, *neighbours]
    voters = [citizen, business, *neighbours]
    _add_ideas(green, GREEN_IDEAS, authors, voters, submitted_at=now)
    _add_ideas(
        services_challenge, SERVICE_IDEAS, authors, voters, submitted_at=now - timedelta(days=20)
    )
    _add_moderation_work(green, citizen, neighbours)
    _add_decisions(green, agency_admin)
    _add_harbour_authority(now, neighbours)
    return True


DECISIONS = [  # (idea title, decision, response, stages after the backlog)
    (
        "Water refill stations downtown",
        "accept",
        "We will install ten stations this year, starting with the market square.",
        [
            ("concept", "Locations chosen with the water company."),
            ("validation", "A first station is tested at the market."),
        ],
    ),
    (
        "Car-free Sundays in the old town",
        "accept",
        "A trial Sunday is planned; we will ask shops and residents first.",
        [],
    ),
    (
        "Tool library",
        "accept",
        "The library will host it from next spring.",
        [("concept", "Partnering with the repair café volunteers.")],
    ),
    (
        "Compost collection for flats",
        "shortlist",
        "We are costing this with the waste service.",
        [],
    ),
    (
        "Wildflower verges",
        "decline",
        "Road safety rules need short grass at junctions; we will plant wildflowers in parks "
        "instead.",
        [],
    ),
]


def _add_decisions(challenge, admin) -> None:
    """Decide on some ideas and move the accepted ones through the pipeline."""
    for title, action, response, stages in DECISIONS:
        idea = db.session.scalar(
            select(Idea).where(Idea.challenge_id == challenge.id, Idea.title == title)
        )
        _decide(idea, admin, action, response, stages)


def _decide(idea, admin, action, response, stages) -> None:
    """Through the same services as the workspace, so the demo has the audit trail too."""
    decisions.decide_idea(admin, idea, action, response)
    for number, (stage, note) in enumerate(stages, start=1):
        decisions.move_idea_stage(admin, idea, stage, note, f"CITY-{idea.id}-{number}")


HARBOUR_IDEAS = [
    (
        "Shore power for ferries",
        "Ferries switch off their engines at the quay.",
        "accept",
        [("concept", "Grid capacity study ordered.")],
    ),
    ("Floating litter traps", "Catch plastic before it reaches the sea.", "accept", []),
    ("Public swimming at the old dock", "A safe, clean place to swim in summer.", "accept", []),
    ("Night-time noise limits for cranes", "Residents near the port cannot sleep.", None, []),
    ("Harbour history trail", "Signs that tell the story of the docks.", None, []),
]


def _add_harbour_authority(now, people) -> None:
    """A second agency, with its own admin, challenge and pipeline."""
    admin = _user("harbour@example.org", "Hana Harbour")
    agency = Agency(
        name="Harbour Authority",
        slug="harbour-authority",
        description="Runs the port and the waterfront.",
    )
    db.session.add_all([agency, Membership(agency=agency, user=admin, role="admin")])
    challenge = _challenge(
        agency=agency,
        slug="cleaner-harbour",
        title="A cleaner harbour",
        summary="How can the port be cleaner and quieter for its neighbours?",
        body="Tell us how the harbour could pollute less and welcome people more.",
        opens_at=now - timedelta(days=15),
        submissions_close_at=now + timedelta(days=15),
        voting_closes_at=now + timedelta(days=25),
        published_at=now - timedelta(days=15),
        moderation_mode="post",
        allow_business=True,
        tags=resolve_tags(["environment", "harbour"]),
    )
    db.session.add(challenge)
    db.session.flush()
    for index, (title, body, action, stages) in enumerate(HARBOUR_IDEAS):
        idea = ideas.submit_idea(people[index], challenge, title=title, body=body)
        for voter in people[: 8 - index]:
            ideas.cast_vote(voter, idea)
        if action:
            _decide(idea, admin, action, "The Harbour Authority takes this forward.", stages)


def _add_moderation_work(challenge, citizen, neighbours) -> None:
    """A duplicate to merge, a reported idea and a comment hidden by reports."""
    original = db.session.scalar(
        select(Idea).where(Idea.challenge_id == challenge.id).order_by(Idea.id).limit(1)
    )
    duplicate = ideas.submit_idea(
        citizen,
        challenge,
        title="More fruit trees in our parks",
        body="Apple and pear trees in the parks, so that children can pick fruit.",
    )
    for voter in neighbours[:3]:
        ideas.cast_vote(voter, duplicate)
    flag_content(
        neighbours[3], original, "off_topic", "This is about parks, not about cooling the city."
    )
    spam = ideas.add_comment(
        neighbours[11], duplicate, "Cheap watches!!! Visit example.com/deals now"
    )
    for reporter in neighbours[:3]:
        flag_content(reporter, spam, "spam")


def _add_ideas(challenge, texts, authors, voters, submitted_at) -> None:
    """Submit the ideas, moderate some into varied states, then vote and comment."""
    published = []
    for index, (title, body) in enumerate(texts):
        # The demo citizen's own ideas wait in the moderation queue.
        author = authors[0] if index % 9 in (7, 8) else authors[index % len(authors)]
        idea = ideas.submit_idea(
            author,
            challenge,
            title=title,
            body=body,
            now=submitted_at,
            tags=IDEA_TAGS[index % len(IDEA_TAGS)],
        )
        outcome = index % 9
        if challenge.is_pre_moderated:
            if outcome == 3:
                states.apply_transition(idea, "reject", "Already planned for next year.")
                continue
            if outcome == 5:
                states.apply_transition(
                    idea, "request_changes", "Please say which district you mean."
                )
                continue
            if outcome in (7, 8):
                continue  # stays pending, for the moderation queue
            states.apply_transition(idea, "publish")
        published.append(idea)
    db.session.flush()
    for index, idea in enumerate(published):
        for voter in voters[: (len(texts) - index) % len(voters)]:
            try:
                ideas.cast_vote(voter, idea)
            except LimitReached:  # some demo voters use up their votes: that is fine
                continue
        for offset in range(index % 3):
            commenter = voters[(index + offset) % len(voters)]
            ideas.add_comment(commenter, idea, COMMENTS[(index + offset) % len(COMMENTS)])
