"""Per-account quotas on ideas, comments, votes and reports (engage.quotas): over a quota,
429 with Retry-After and a message in the person's language, and nothing stored."""

from types import SimpleNamespace

import pytest
from flask_babel import force_locale, gettext
from markupsafe import escape
from sqlalchemy import func, select

from engage.extensions import db
from engage.ideas.models import Comment, Idea, Vote
from engage.moderation.models import Flag
from engage.quotas import wait_text


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def challenge(make_challenge):
    return make_challenge("open", slug="trees")


@pytest.fixture
def ideas(make_idea, challenge):
    return [make_idea(challenge) for _ in range(3)]


@pytest.fixture
def citizen(make_user, auth):
    person = make_user("citizen@example.org")
    auth.login("citizen@example.org")
    return person


def quota(app, name: str, value: str = "2 per minute"):
    app.config[name] = value


def comment(client, idea, **kwargs):
    return client.post(f"/ideas/{idea.id}/comments", data={"body": "Good idea."}, **kwargs)


def submit(client, title="Plant trees", **fields):
    data = {"title": title, "body": "Along the river.", "tags": "", "location": "", **fields}
    return client.post("/challenges/trees/ideas/new", data=data)


def report(client, url, **kwargs):
    return client.post(url, data={"reason": "spam", "details": ""}, **kwargs)


# Each quota: its setting, what it stores, its message, and the n-th request of its kind.
KINDS = {
    "ideas": SimpleNamespace(
        setting="IDEA_QUOTA",
        model=Idea,
        msgid="You have submitted many ideas in a short time. Please wait %(wait)s before you "
        "submit another one.",
        send=lambda client, ideas, n, **kw: client.post(
            "/challenges/trees/ideas/new",
            data={"title": f"Idea {n}", "body": "Along the river.", "tags": "", "location": ""},
            **kw,
        ),
    ),
    "comments": SimpleNamespace(
        setting="COMMENT_QUOTA",
        model=Comment,
        msgid="You have posted many comments in a short time. Please wait %(wait)s before you "
        "post another one.",
        send=lambda client, ideas, n, **kw: comment(client, ideas[n], **kw),
    ),
    "votes": SimpleNamespace(
        setting="VOTE_QUOTA",
        model=Vote,
        msgid="You have voted many times in a short time. Please wait %(wait)s before you vote "
        "again.",
        send=lambda client, ideas, n, **kw: client.post(f"/ideas/{ideas[n].id}/vote", **kw),
    ),
    "reports": SimpleNamespace(
        setting="REPORT_QUOTA",
        model=Flag,
        msgid="You have sent many reports in a short time. Please wait %(wait)s before you "
        "send another one.",
        send=lambda client, ideas, n, **kw: report(client, f"/ideas/{ideas[n].id}/flag", **kw),
    ),
}
COMMENTS_MESSAGE = KINDS["comments"].msgid % {"wait": "1 minute"}


def use_up(app, client, ideas, kind, value="2 per minute"):
    """Set the quota of `kind` to two and use it up with two accepted requests."""
    quota(app, kind.setting, value)
    for n in range(2):
        assert kind.send(client, ideas, n).status_code == 302


def in_french(app, msgid: str, wait_seconds: int) -> str:
    """The sentence as the French catalogue has it, escaped as a page shows it."""
    with app.test_request_context(), force_locale("fr"):
        return str(escape(gettext(msgid, wait=wait_text(wait_seconds))))


# Over a quota ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(KINDS))
def test_third_request_over_the_quota_gets_429_and_is_not_stored(
    app, client, citizen, ideas, name
):
    kind = KINDS[name]
    stored_before = count(app, kind.model)
    use_up(app, client, ideas, kind)

    response = kind.send(client, ideas, 2)

    assert response.status_code == 429
    assert count(app, kind.model) == stored_before + 2


@pytest.mark.parametrize("name", sorted(KINDS))
def test_429_carries_retry_after_in_seconds(app, client, citizen, ideas, name):
    use_up(app, client, ideas, KINDS[name])

    response = KINDS[name].send(client, ideas, 2)

    assert 0 < int(response.headers["Retry-After"]) <= 61


@pytest.mark.parametrize("name", sorted(KINDS))
def test_429_is_the_error_page_with_a_message_for_the_action(app, client, citizen, ideas, name):
    use_up(app, client, ideas, KINDS[name])

    page = KINDS[name].send(client, ideas, 2).get_data(as_text=True)

    assert '<main id="main"' in page
    assert "<h1>Too many requests</h1>" in page
    assert KINDS[name].msgid % {"wait": "1 minute"} in page
    assert "Traceback" not in page


@pytest.mark.parametrize("name", sorted(KINDS))
def test_429_message_follows_accept_language(app, client, citizen, ideas, name):
    use_up(app, client, ideas, KINDS[name], "2 per hour")

    response = KINDS[name].send(client, ideas, 2, headers={"Accept-Language": "fr"})

    page = response.get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "<h1>Trop de requêtes</h1>" in page
    assert in_french(app, KINDS[name].msgid, 3600) in page


def test_429_message_follows_the_account_language(app, client, make_user, auth, ideas):
    make_user("marie@example.org", locale="fr")
    auth.login("marie@example.org")
    use_up(app, client, ideas, KINDS["comments"], "2 per hour")

    page = comment(client, ideas[2]).get_data(as_text=True)

    assert '<html lang="fr">' in page
    assert "<h1>Trop de requêtes</h1>" in page
    assert in_french(app, KINDS["comments"].msgid, 3600) in page


def test_429_for_json_clients_is_a_problem_document(app, client, citizen, ideas):
    use_up(app, client, ideas, KINDS["comments"])

    response = comment(client, ideas[2], headers={"Accept": "application/json"})

    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == COMMENTS_MESSAGE
    assert "Retry-After" in response.headers


# What counts -------------------------------------------------------------------------------


def test_idea_previews_do_not_use_the_quota(app, client, citizen, challenge):
    quota(app, "IDEA_QUOTA")
    for _ in range(3):
        assert submit(client, preview="Preview").status_code == 200

    assert submit(client).status_code == 302


def test_reading_the_idea_form_does_not_use_the_quota(app, client, citizen, challenge):
    quota(app, "IDEA_QUOTA")
    for _ in range(3):
        assert client.get("/challenges/trees/ideas/new").status_code == 200

    assert submit(client).status_code == 302


def test_withdrawing_a_vote_uses_the_same_quota(app, client, citizen, ideas):
    quota(app, "VOTE_QUOTA")
    client.post(f"/ideas/{ideas[0].id}/vote")
    client.post(f"/ideas/{ideas[0].id}/unvote")

    response = client.post(f"/ideas/{ideas[0].id}/vote")

    assert response.status_code == 429
    assert count(app, Vote) == 0


def test_reports_of_comments_share_the_quota_of_reports(app, client, citizen, ideas):
    comment(client, ideas[0])
    with app.app_context():
        comment_id = db.session.scalar(select(Comment.id))
    quota(app, "REPORT_QUOTA")
    report(client, f"/ideas/{ideas[1].id}/flag")
    report(client, f"/ideas/{ideas[2].id}/flag")

    response = report(client, f"/comments/{comment_id}/flag")

    assert response.status_code == 429
    assert count(app, Flag) == 2


def test_reading_the_report_form_does_not_use_the_quota(app, client, citizen, ideas):
    quota(app, "REPORT_QUOTA")
    for _ in range(3):
        assert client.get(f"/ideas/{ideas[0].id}/flag").status_code == 200

    assert report(client, f"/ideas/{ideas[0].id}/flag").status_code == 302


# Whose quota -------------------------------------------------------------------------------


def test_quotas_are_counted_per_kind(app, client, citizen, ideas):
    quota(app, "COMMENT_QUOTA")
    quota(app, "VOTE_QUOTA")
    comment(client, ideas[0])
    comment(client, ideas[0])

    assert client.post(f"/ideas/{ideas[0].id}/vote").status_code == 302


def test_another_account_on_the_same_address_has_its_own_quota(
    app, client, citizen, make_user, ideas
):
    quota(app, "COMMENT_QUOTA")
    comment(client, ideas[0])
    comment(client, ideas[0])
    make_user("other@example.org")
    other = app.test_client()
    other.post(
        "/account/sign-in",
        data={"email": "other@example.org", "password": "correct horse battery"},
    )

    assert comment(other, ideas[0]).status_code == 302


def test_changing_address_does_not_reset_the_quota(app, client, citizen, ideas):
    quota(app, "COMMENT_QUOTA")
    comment(client, ideas[0], environ_base={"REMOTE_ADDR": "192.0.2.1"})
    comment(client, ideas[0], environ_base={"REMOTE_ADDR": "192.0.2.2"})

    response = comment(client, ideas[0], environ_base={"REMOTE_ADDR": "192.0.2.3"})

    assert response.status_code == 429


def test_visitors_are_sent_to_sign_in_whatever_the_quota(app, client, ideas):
    quota(app, "COMMENT_QUOTA", "1 per minute")
    for _ in range(3):
        response = comment(client, ideas[0])
        assert response.status_code == 302
        assert "/account/sign-in" in response.headers["Location"]


# How long to wait --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.2, "1 minute"),
        (59, "1 minute"),
        (61, "2 minutes"),
        (45 * 60, "45 minutes"),
        (3600, "1 hour"),
        (3601, "2 hours"),
        (5 * 3600 - 10, "5 hours"),
        (24 * 3600, "1 day"),
    ],
)
def test_wait_is_never_shorter_than_the_real_wait(app, seconds, text):
    with app.test_request_context():
        assert wait_text(seconds) == text


def test_wait_is_in_the_person_s_language(app):
    with app.test_request_context(), force_locale("fr"):
        assert wait_text(7000) == "2\N{NO-BREAK SPACE}heures"
