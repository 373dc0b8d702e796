"""Domain errors that escape a view: answered with their class's HTTP status, as an error
page in the person's language or as problem+json, and nothing of the request stored."""

import pytest
from flask import after_this_request
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from engage.challenges.models import Tag
from engage.errors import (
    DomainError,
    InvalidTransition,
    LimitReached,
    NotPermitted,
    Problem,
    ValidationFailed,
)
from engage.extensions import db

# What each refusal means in HTTP, written out by hand.
STATUSES = {
    DomainError: 422,
    ValidationFailed: 422,
    InvalidTransition: 409,
    LimitReached: 409,
    NotPermitted: 403,
}

# One refusal of each class as a service raises it, with what a person reading French is
# shown (the page's title and the message) and what a client reads in problem+json.
REFUSALS = {
    ValidationFailed: (
        lambda: ValidationFailed(_l("A reason is required for this decision."), "reason"),
        ("Impossible de traiter la requête", "Un motif est requis pour cette décision."),
        {
            "type": "about:blank",
            "title": "Request could not be processed",
            "status": 422,
            "detail": "A reason is required for this decision.",
            "invalid_params": [
                {"name": "reason", "reason": "A reason is required for this decision."}
            ],
        },
    ),
    InvalidTransition: (
        lambda: InvalidTransition(_l("This challenge is already closed.")),
        ("Conflit", "Ce défi est déjà clôturé."),
        {
            "type": "about:blank",
            "title": "Conflict",
            "status": 409,
            "detail": "This challenge is already closed.",
        },
    ),
    LimitReached: (
        lambda: LimitReached(
            _l(
                "You have used all %(limit)d of your votes in this challenge. "
                "Take one back to vote for this idea.",
                limit=3,
            )
        ),
        (
            "Conflit",
            "Vous avez utilisé tous vos votes pour ce défi (3 au maximum). "
            "Retirez-en un pour voter pour cette idée.",
        ),
        {
            "type": "about:blank",
            "title": "Conflict",
            "status": 409,
            "detail": "You have used all 3 of your votes in this challenge. "
            "Take one back to vote for this idea.",
        },
    ),
    NotPermitted: (
        lambda: NotPermitted(_l("Only the agency's admins can change this.")),
        (
            "Action non autorisée",
            "Seuls les administrateurs de l'organisme public peuvent modifier ce paramètre.",
        ),
        {
            "type": "about:blank",
            "title": "Not allowed",
            "status": 403,
            "detail": "Only the agency's admins can change this.",
        },
    ),
}


RAISE = {cls.__name__: REFUSALS[cls][0] for cls in REFUSALS}
by_class = pytest.mark.parametrize("cls", REFUSALS, ids=lambda cls: cls.__name__)


@pytest.fixture
def refusing_app(make_app):
    """An app of its own with throwaway routes, a page and an API one (the shared app
    takes no new routes once it has served a request), that write to the database, ask
    for a commit once the answer is made, and then raise the refusal named in the URL."""

    def refuse(kind: str):
        @after_this_request
        def commit(response):  # stores whatever the error handler left in the session
            db.session.commit()
            return response

        db.session.add(Tag(name="half-done"))
        db.session.flush()
        raise RAISE[kind]()

    app = make_app()
    app.add_url_rule("/test-refuse/<kind>", "test_refuse", refuse)
    app.add_url_rule("/api/test-refuse/<kind>", "test_api_refuse", refuse)
    return app


def _tags(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Tag))


def test_each_error_class_has_its_status():
    assert {cls: cls.status for cls in STATUSES} == STATUSES


@pytest.mark.parametrize("status", [401, 415])
def test_problem_carries_the_status_it_is_given(status):
    problem = Problem(status, "Refused.", headers={"WWW-Authenticate": 'Bearer realm="engage"'})

    assert isinstance(problem, DomainError)
    assert (problem.status, problem.headers) == (
        status,
        {"WWW-Authenticate": 'Bearer realm="engage"'},
    )
    assert DomainError.status == 422  # the instance's status, not the class's, changed


@by_class
def test_refusal_escaping_a_page_gives_the_error_page_in_the_persons_language(refusing_app, cls):
    title, message = REFUSALS[cls][1]

    response = refusing_app.test_client().get(
        f"/test-refuse/{cls.__name__}", headers={"Accept-Language": "fr"}
    )

    page = response.get_data(as_text=True)
    assert response.status_code == STATUSES[cls]
    assert response.mimetype == "text/html"
    assert '<html lang="fr">' in page
    assert f"<h1>{title}</h1>" in page
    assert f"<p>{message}</p>" in page


@by_class
def test_refusal_escaping_a_page_stores_nothing(refusing_app, cls):
    refusing_app.test_client().get(f"/test-refuse/{cls.__name__}")

    assert _tags(refusing_app) == 0


@by_class
def test_refusal_escaping_an_api_view_gives_problem_json(refusing_app, cls):
    response = refusing_app.test_client().get(f"/api/test-refuse/{cls.__name__}")

    assert response.status_code == STATUSES[cls]
    assert response.mimetype == "application/problem+json"
    assert response.get_json() == REFUSALS[cls][2]
    assert _tags(refusing_app) == 0


def test_json_client_of_a_page_gets_problem_json(refusing_app):
    response = refusing_app.test_client().get(
        "/test-refuse/ValidationFailed", headers={"Accept": "application/json"}
    )

    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json() == REFUSALS[ValidationFailed][2]
