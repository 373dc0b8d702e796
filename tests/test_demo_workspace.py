"""The agency workspace on the demo data, through the real pages: the demo agency admin
creates and publishes a challenge, the demo citizen submits an idea, the admin accepts it,
and the citizen sees the answer and the stage; the demo's pipelines have progress to show."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from engage.agencies.models import Agency
from engage.audit import ModerationAction
from engage.challenges.models import Challenge
from engage.db import now_utc
from engage.demo import DECISIONS, DEMO_AGENCY_SLUG, DEMO_PASSWORD, HARBOUR_IDEAS
from engage.extensions import db
from engage.ideas.models import Idea

WORKSPACE = f"/agencies/{DEMO_AGENCY_SLUG}"
SLUG = "safer-school-routes"
RESPONSE = "We will paint **crossings** at all six schools before September."


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _local(value) -> str:
    return value.strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def demo(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture
def sign_in_as(client, auth, demo):
    def sign_in(email: str) -> None:
        auth.logout()
        assert auth.login(email, DEMO_PASSWORD).status_code == 302

    return sign_in


def create_and_publish(client, sign_in_as) -> None:
    """The demo agency admin writes a challenge open since yesterday and publishes it."""
    now = now_utc()
    sign_in_as("agency@example.org")
    response = client.post(
        f"{WORKSPACE}/challenges/new",
        data={
            "title": "Safer school routes",
            "summary": "How can children walk to school safely?",
            "body": "Tell us about **dangerous crossings**.",
            "tags": "schools, traffic",
            "opens_at": _local(now - timedelta(days=1)),
            "submissions_close_at": _local(now + timedelta(days=14)),
            "voting_closes_at": _local(now + timedelta(days=21)),
            "moderation_mode": "post",
            "vote_limit": "",
            "allow_business": "y",
        },
    )
    assert response.status_code == 302
    response = client.post(f"{WORKSPACE}/challenges/{SLUG}/publish")
    assert response.status_code == 302


def submit_idea(client, sign_in_as) -> int:
    """The demo citizen submits an idea to the new challenge; returns its id."""
    sign_in_as("citizen@example.org")
    response = client.post(
        f"/challenges/{SLUG}/ideas/new",
        data={
            "title": "Lollipop crossing on Elm Road",
            "tags": "crossings",
            "body": "A crossing guard at Elm Road at 8:30 and 15:30.",
            "location": "Elm Road",
        },
    )
    assert response.status_code == 302
    return int(re.fullmatch(r"/ideas/(\d+)", response.headers["Location"]).group(1))


def accept(client, sign_in_as, idea_id: int) -> None:
    sign_in_as("agency@example.org")
    response = client.post(
        f"{WORKSPACE}/ideas/{idea_id}/decision", data={"action": "accept", "response": RESPONSE}
    )
    assert response.status_code == 302


# --- the story of the issue --------------------------------------------------------------


def test_demo_agency_admin_creates_and_publishes_a_challenge(client, sign_in_as):
    create_and_publish(client, sign_in_as)

    dashboard = text_of(client.get(f"{WORKSPACE}/workspace"))
    assert "Safer school routes" in dashboard
    assert "Open for ideas" in dashboard
    sign_in_as("citizen@example.org")
    assert "Safer school routes" in text_of(client.get("/challenges"))
    assert client.get(f"/challenges/{SLUG}").status_code == 200


def test_demo_citizen_submits_an_idea_to_the_new_challenge(client, sign_in_as):
    create_and_publish(client, sign_in_as)

    idea_id = submit_idea(client, sign_in_as)

    page = text_of(client.get(f"/ideas/{idea_id}"))
    assert "Lollipop crossing on Elm Road" in page
    assert "Chris Citizen" in page


def test_demo_agency_admin_sees_the_idea_arrive_in_the_ranking(client, sign_in_as):
    create_and_publish(client, sign_in_as)
    idea_id = submit_idea(client, sign_in_as)
    sign_in_as("agency@example.org")

    ranking = client.get(f"{WORKSPACE}/challenges/{SLUG}/ideas")

    assert ranking.status_code == 200
    assert f'href="{WORKSPACE}/ideas/{idea_id}/decision">Lollipop crossing on Elm Road' in (
        text_of(ranking)
    )
    assert "1 idea" in text_of(ranking)


def test_demo_agency_admin_accepts_the_idea_with_a_response(client, sign_in_as, demo, mailbox):
    create_and_publish(client, sign_in_as)
    idea_id = submit_idea(client, sign_in_as)

    accept(client, sign_in_as, idea_id)

    with demo.app_context():
        idea = db.session.get(Idea, idea_id)
        assert (idea.decision, idea.pipeline_stage) == ("accepted", "backlog")
        assert idea.decision_response == RESPONSE
    assert [m["To"] for m in mailbox if "Decision on" in m["Subject"]] == ["citizen@example.org"]


def test_demo_citizen_sees_the_response_and_the_stage_on_the_idea_page(client, sign_in_as):
    create_and_publish(client, sign_in_as)
    idea_id = submit_idea(client, sign_in_as)
    accept(client, sign_in_as, idea_id)
    sign_in_as("citizen@example.org")

    page = text_of(client.get(f"/ideas/{idea_id}"))

    assert "Decision of City of Example:" in page
    assert "Accepted" in page
    assert "We will paint <strong>crossings</strong> at all six schools" in page
    assert "Current stage: <strong>Backlog</strong>" in page
    assert '<ol class="pipeline">' in page


# --- the demo's pipelines ----------------------------------------------------------------


def _accepted_by_agency(app) -> dict[str, list[tuple[str, str]]]:
    with app.app_context():
        rows = db.session.execute(
            select(Agency.slug, Idea.title, Idea.pipeline_stage)
            .join(Challenge, Challenge.agency_id == Agency.id)
            .join(Idea, Idea.challenge_id == Challenge.id)
            .where(Idea.decision == "accepted")
        ).all()
    found: dict[str, list[tuple[str, str]]] = {}
    for slug, title, stage in rows:
        found.setdefault(slug, []).append((title, stage))
    return found


@pytest.mark.parametrize("slug", ["city-of-example", "harbour-authority"])
def test_demo_agency_has_accepted_ideas_in_several_stages(demo, slug):
    stages = {stage for _, stage in _accepted_by_agency(demo)[slug]}

    assert len(stages) >= 2
    assert "backlog" in stages


def test_demo_has_at_least_two_ideas_in_the_backlog(demo):
    in_backlog = [
        title
        for ideas in _accepted_by_agency(demo).values()
        for title, stage in ideas
        if stage == "backlog"
    ]

    assert len(in_backlog) >= 2


def test_demo_pipeline_histories_end_at_the_current_stage(demo):
    with demo.app_context():
        ideas = db.session.scalars(select(Idea).where(Idea.decision == "accepted")).all()
        assert ideas
        for idea in ideas:
            assert idea.moderation_state == "published"
            assert idea.decision_response
            assert idea.pipeline_events[0].stage == "backlog", idea.title
            assert idea.pipeline_events[-1].stage == idea.pipeline_stage, idea.title


def test_visitor_sees_the_progress_of_a_demo_idea(client, demo):
    with demo.app_context():
        idea_id = db.session.scalar(
            select(Idea.id).where(Idea.title == "Water refill stations downtown")
        )

    page = text_of(client.get(f"/ideas/{idea_id}"))

    assert "Current stage: <strong>Validation</strong>" in page
    history = page.split('<ol class="pipeline">')[1].split("</ol>")[0]
    assert re.findall(r"<strong>(\w+)</strong>", history) == ["Backlog", "Concept", "Validation"]
    assert "A first station is tested at the market." in history


def test_demo_harbour_admin_moves_their_own_idea_on(client, sign_in_as, demo):
    with demo.app_context():
        idea_id = db.session.scalar(select(Idea.id).where(Idea.title == "Floating litter traps"))
    sign_in_as("harbour@example.org")

    response = client.post(
        f"/agencies/harbour-authority/ideas/{idea_id}/stage",
        data={"stage": "concept", "note": "Two traps ordered."},
    )

    assert response.status_code == 302
    assert "Current stage: <strong>Concept</strong>" in text_of(client.get(f"/ideas/{idea_id}"))


def test_demo_agency_admins_only_reach_their_own_agency(client, sign_in_as):
    sign_in_as("agency@example.org")
    assert client.get("/agencies/harbour-authority/workspace").status_code == 404
    sign_in_as("harbour@example.org")
    assert client.get(f"{WORKSPACE}/workspace").status_code == 404


def test_demo_decisions_and_stage_moves_are_in_the_audit_history(demo):
    with demo.app_context():
        rows = db.session.execute(
            select(ModerationAction.action, Idea.title)
            .join(Idea, Idea.id == ModerationAction.idea_id)
            .where(ModerationAction.action.like("decide_%") | (ModerationAction.action == "stage"))
        ).all()

    decided = {(f"decide_{action}", title) for title, action, _, _ in DECISIONS}
    decided |= {(f"decide_{action}", title) for title, _, action, _ in HARBOUR_IDEAS if action}
    moved = [title for title, _, _, stages in DECISIONS for _ in stages]
    moved += [title for title, _, action, stages in HARBOUR_IDEAS if action for _ in stages]
    assert {row for row in rows if row[0] != "stage"} == decided
    assert sorted(title for action, title in rows if action == "stage") == sorted(moved)
