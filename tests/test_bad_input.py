"""Bad input gets a clear answer and changes nothing; no request ever ends in a traceback."""

import re

import pytest
from sqlalchemy import func, select

from engage.auth.models import User
from engage.challenges.models import Tag
from engage.extensions import db
from engage.ideas.models import Comment, Idea

NUL_MESSAGE = "The request contains characters that are not allowed."
PROBLEM_KEYS = {"type", "title", "status", "detail"}


def count(app, model) -> int:
    """Rows of `model` committed to the database, seen from a fresh session."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def challenge(make_challenge):
    return make_challenge("open", slug="trees")


@pytest.fixture
def citizen(make_user, auth):
    person = make_user("citizen@example.org")
    auth.login("citizen@example.org")
    return person


@pytest.fixture
def idea(make_idea, challenge):
    return make_idea(challenge, title="Plant trees")


def submit_idea(client, **fields):
    data = {"title": "Plant trees", "body": "Along the river.", "tags": "", "location": ""}
    data.update(fields)
    return client.post("/challenges/trees/ideas/new", data=data)


# NUL bytes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["title", "body", "tags", "location"])
def test_nul_byte_in_an_idea_field_is_refused_and_nothing_stored(
    app, client, citizen, challenge, field
):
    response = submit_idea(client, **{field: "Plant\x00trees"})

    assert response.status_code == 400
    assert NUL_MESSAGE in response.get_data(as_text=True)
    assert count(app, Idea) == 0
    assert count(app, Tag) == 0


def test_nul_byte_in_a_comment_is_refused_and_nothing_stored(app, client, citizen, idea):
    response = client.post(f"/ideas/{idea.id}/comments", data={"body": "Yes\x00!"})

    assert response.status_code == 400
    assert NUL_MESSAGE in response.get_data(as_text=True)
    assert count(app, Comment) == 0


def test_nul_byte_in_registration_is_refused_and_no_account_made(app, client, mailbox):
    response = client.post(
        "/account/register",
        data={
            "account_type": "citizen",
            "display_name": "Ada\x00",
            "email": "ada@example.org",
            "password": "long enough password",
            "password_confirm": "long enough password",
        },
    )

    assert response.status_code == 400
    assert NUL_MESSAGE in response.get_data(as_text=True)
    assert count(app, User) == 0
    assert mailbox == []


def test_nul_byte_in_sign_in_is_refused(client, make_user):
    make_user("citizen@example.org")

    response = client.post(
        "/account/sign-in",
        data={
            "email": "citizen@example.org\x00",
            "password": "correct horse battery",
        },
    )

    assert response.status_code == 400
    assert NUL_MESSAGE in response.get_data(as_text=True)


def test_nul_byte_in_a_multipart_form_is_refused_and_nothing_stored(app, client, citizen, idea):
    response = client.post(
        f"/ideas/{idea.id}/comments",
        data={"body": "Yes\x00!"},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert NUL_MESSAGE in response.get_data(as_text=True)
    assert count(app, Comment) == 0


@pytest.mark.parametrize("query", ["tag=a%00b", "agency=%00", "phase=open%00", "x=%00"])
def test_nul_byte_in_a_query_string_is_refused(client, challenge, query):
    response = client.get(f"/challenges?{query}")

    assert response.status_code == 400
    assert NUL_MESSAGE in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/challenges/tr%00ees",
        "/challenges/%00",
        "/ideas/1%00",
        "/%00",
        "/account/sign-in%00",
    ],
)
def test_nul_byte_in_a_url_path_is_refused(client, challenge, path):
    response = client.get(path)

    assert response.status_code == 400
    assert NUL_MESSAGE in response.get_data(as_text=True)


def test_nul_byte_error_is_a_page_in_the_layout(client):
    page = client.get("/challenges?tag=%00").get_data(as_text=True)

    assert '<main id="main"' in page
    assert "<h1>Bad request</h1>" in page


def test_nul_byte_error_for_json_clients_is_a_problem_document(client):
    response = client.get("/challenges?tag=%00", headers={"Accept": "application/json"})

    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == NUL_MESSAGE


# Invalid UTF-8 --------------------------------------------------------------------------------

INVALID_UTF8_MESSAGE = "Part of what you sent is not readable text (it is not valid UTF-8)."


def post_raw(client, url: str, raw: bytes, **kwargs):
    return client.post(url, data=raw, content_type="application/x-www-form-urlencoded", **kwargs)


@pytest.mark.parametrize(
    "raw",
    [
        b"title=\xff\xfe&body=Along+the+river.",
        b"title=%FF%FE&body=Along+the+river.",
        b"title=Trees&body=%C3%28%A0%A1",
        b"title=Trees&body=ok&tags=%ED%A0%80",
        b"title=%F0%9F%8C&body=truncated+emoji",
        b"\xc0\xaf=x&title=Trees&body=ok",
    ],
)
def test_invalid_utf8_in_an_idea_form_is_refused_and_nothing_stored(
    app, client, citizen, challenge, raw
):
    response = post_raw(client, "/challenges/trees/ideas/new", raw)

    assert response.status_code == 400
    assert INVALID_UTF8_MESSAGE in response.get_data(as_text=True)
    assert count(app, Idea) == 0
    assert count(app, Tag) == 0


def test_invalid_utf8_in_a_comment_is_refused_and_nothing_stored(app, client, citizen, idea):
    response = post_raw(client, f"/ideas/{idea.id}/comments", b"body=%FF%FEyes\xff")

    assert response.status_code == 400
    assert INVALID_UTF8_MESSAGE in response.get_data(as_text=True)
    assert count(app, Comment) == 0


@pytest.mark.parametrize(
    "raw",
    [
        b"display_name=%FF%FE&email=ada%40example.org",
        b"display_name=Ada&email=a%FE%40example.org",
        b"display_name=Ada&email=ada%40example.org&account_type=%C3%28",
    ],
)
def test_invalid_utf8_in_registration_is_refused_and_no_account_made(app, client, mailbox, raw):
    response = post_raw(
        client,
        "/account/register",
        raw + b"&password=long+enough+pass&password_confirm=long+enough+pass",
    )

    assert response.status_code == 400
    assert INVALID_UTF8_MESSAGE in response.get_data(as_text=True)
    assert count(app, User) == 0
    assert mailbox == []


def test_invalid_utf8_in_sign_in_is_refused(client, make_user):
    make_user("citizen@example.org")

    response = post_raw(client, "/account/sign-in", b"email=%FF%FE&password=%C3%28")

    assert response.status_code == 400
    assert INVALID_UTF8_MESSAGE in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    [
        "/challenges?tag=%FF%FE",
        "/challenges?agency=%C3%28",
        "/challenges/trees?sort=%FF",
        "/challenges/trees?page=%FF",
        "/?%FF=%FE",
        "/challenges?tag=%ED%A0%80",
    ],
)
def test_invalid_utf8_in_a_query_string_is_refused(client, challenge, url):
    response = client.get(url)

    assert response.status_code == 400
    assert INVALID_UTF8_MESSAGE in response.get_data(as_text=True)


def test_invalid_utf8_error_is_a_page_in_the_layout(client):
    page = client.get("/challenges?tag=%FF").get_data(as_text=True)

    assert '<main id="main"' in page
    assert "<h1>Bad request</h1>" in page


def test_invalid_utf8_error_for_json_clients_is_a_problem_document(client):
    response = client.get("/challenges?tag=%FF", headers={"Accept": "application/json"})

    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"].startswith(INVALID_UTF8_MESSAGE)


def test_invalid_utf8_error_is_in_the_person_s_language(client):
    response = client.get("/challenges?tag=%FF", headers={"Accept-Language": "fr"})

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<html lang="fr">' in page
    assert "<h1>Requête incorrecte</h1>" in page


def test_invalid_utf8_is_refused_with_csrf_on_and_a_valid_token(app, client, citizen, idea):
    app.config["WTF_CSRF_ENABLED"] = True  # after signing in, which sends no token
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    response = post_raw(
        client, f"/ideas/{idea.id}/comments", b"csrf_token=" + token.encode() + b"&body=%FF"
    )

    assert response.status_code == 400
    assert INVALID_UTF8_MESSAGE in response.get_data(as_text=True)
    assert count(app, Comment) == 0


def test_valid_utf8_with_percent_plus_and_replacement_signs_is_kept_as_typed(
    app, client, citizen, idea
):
    raw = b"body=100%25+sure+%2B+%F0%9F%8C%B3+%EF%BF%BD+caf%C3%A9"

    response = post_raw(client, f"/ideas/{idea.id}/comments", raw)

    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Comment.body)) == "100% sure + \U0001f333 \ufffd café"


def test_valid_utf8_query_string_is_accepted(client, challenge):
    assert client.get("/challenges?tag=%F0%9F%8C%B3&agency=caf%C3%A9").status_code == 200


@pytest.mark.parametrize("path", ["/challenges/%FF%FE", "/ideas/%C3%28", "/%ED%A0%80"])
def test_invalid_utf8_in_a_url_path_is_not_found(client, path):
    assert client.get(path).status_code == 404


# Over-long fields --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "t" * 141, "Use at most 140 characters."),
        ("body", "b" * 10_001, "Use at most 10000 characters."),
        ("location", "l" * 201, "Use at most 200 characters."),
        ("tags", "t" * 251, "Use at most 250 characters."),
        ("tags", "x" * 41, "Each tag can be at most 40 characters long."),
        ("tags", "a, b, c, d, e, f", "Use at most 5 tags."),
    ],
)
def test_over_long_idea_field_is_refused_with_its_error(
    app, client, citizen, challenge, field, value, message
):
    response = submit_idea(client, **{field: value})

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<p class="field-error" id="{field}-error">' in page
    assert message in page.split(f'id="{field}-error"', 1)[1].split("</p>", 1)[0]
    assert count(app, Idea) == 0


def test_over_long_fields_keep_what_was_typed(client, citizen, challenge):
    response = submit_idea(client, title="t" * 141, body="My careful description")

    assert "My careful description" in response.get_data(as_text=True)


def test_idea_fields_at_their_limits_are_accepted(app, client, citizen, challenge):
    response = submit_idea(
        client,
        title="t" * 140,
        body="b" * 10_000,
        location="l" * 200,
        tags=", ".join(f"{n}" * 40 for n in range(5)),
    )

    assert response.status_code == 302
    assert count(app, Idea) == 1


def test_over_long_comment_is_refused_with_its_error(app, client, citizen, idea):
    response = client.post(f"/ideas/{idea.id}/comments", data={"body": "c" * 5_001})

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'aria-invalid="true"' in page
    assert "Use at most 5000 characters." in page
    assert count(app, Comment) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("display_name", "n" * 81),
        ("organisation_name", "o" * 121),
        ("email", "e" * 250 + "@example.org"),
        ("password", "p" * 201),
    ],
)
def test_over_long_registration_field_is_refused(app, client, mailbox, field, value):
    data = {
        "account_type": "citizen",
        "display_name": "Ada",
        "email": "ada@example.org",
        "password": "long enough password",
        "password_confirm": "long enough password",
    }
    data[field] = value
    if field == "password":
        data["password_confirm"] = value

    response = client.post("/account/register", data=data)

    assert response.status_code == 422
    assert f'<p class="field-error" id="{field}-error">' in response.get_data(as_text=True)
    assert count(app, User) == 0
    assert mailbox == []


def test_over_long_password_at_sign_in_is_refused(client, make_user):
    make_user("citizen@example.org")

    response = client.post(
        "/account/sign-in", data={"email": "citizen@example.org", "password": "p" * 201}
    )

    assert response.status_code == 422
    assert "That password is too long." in response.get_data(as_text=True)


# Unknown ids, methods ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "idea_id",
    [
        "999999",
        "0",
        "2147483647",
        "2147483648",
        str(2**63),
        "99999999999999999999999999",
        "-1",
        "1.5",
        "abc",
        "%C2%B2",
        "0x1",
    ],
)
def test_unknown_idea_id_is_not_found(client, idea_id):
    response = client.get(f"/ideas/{idea_id}")

    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.get_data(as_text=True)


@pytest.mark.parametrize("action", ["vote", "unvote", "withdraw", "comments", "edit"])
@pytest.mark.parametrize("idea_id", ["999999", "2147483647", "2147483648", str(2**64)])
def test_actions_on_unknown_or_huge_idea_ids_are_not_found(client, citizen, action, idea_id):
    response = client.post(f"/ideas/{idea_id}/{action}", data={"body": "Hi"})

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/ideas/{id}/vote"),
        ("get", "/ideas/{id}/comments"),
        ("put", "/ideas/{id}"),
        ("delete", "/challenges/trees"),
        ("post", "/challenges"),
        ("patch", "/"),
        ("get", "/account/sign-out"),
    ],
)
def test_wrong_http_method_gets_the_405_page(client, idea, method, url):
    response = getattr(client, method)(url.format(id=idea.id))

    page = response.get_data(as_text=True)
    assert response.status_code == 405
    assert response.mimetype == "text/html"
    assert "<h1>Method not allowed</h1>" in page
    assert '<main id="main"' in page
    assert response.headers["Allow"]


def test_405_names_the_allowed_methods(client, idea):
    response = client.get(f"/ideas/{idea.id}/vote")

    assert "POST" in response.headers["Allow"]


# Languages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "xx-YY, zz;q=0.9",
        "klingon",
        "*",
        "**;q=abc,,;",
        "en-GB-oed;q=2",
        "q=0.5",
        "de;q=0, fr;q=-1",
        "a" * 2000,
    ],
)
def test_unknown_accept_language_gives_the_english_page(client, header):
    response = client.get("/challenges", headers={"Accept-Language": header})

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="en">' in page
    assert "<h1>Challenges</h1>" in page


@pytest.mark.parametrize("value", ["xx", "", "../../etc", "fr_FR%00", "en;drop"])
def test_unknown_lang_argument_is_ignored(client, value):
    response = client.get(f"/challenges?lang={value}")

    assert response.status_code in {200, 400}  # 400 only for the NUL byte
    if response.status_code == 200:
        assert '<html lang="en">' in response.get_data(as_text=True)


@pytest.mark.parametrize("locale", ["xx", "", "EN", "en-US-x-private", None])
def test_unknown_session_locale_falls_back_to_english(client, locale):
    with client.session_transaction() as session:
        session["locale"] = locale

    response = client.get("/challenges")

    assert response.status_code == 200
    assert '<html lang="en">' in response.get_data(as_text=True)


def test_unknown_account_locale_falls_back_to_english(client, auth, make_user):
    make_user("citizen@example.org", locale="zz")
    auth.login("citizen@example.org")

    response = client.get("/challenges")

    assert response.status_code == 200
    assert '<html lang="en">' in response.get_data(as_text=True)


def test_switching_to_an_unknown_language_is_not_found_and_changes_nothing(client):
    response = client.get("/account/language/xx?next=/challenges")

    assert response.status_code == 404
    with client.session_transaction() as session:
        assert "locale" not in session


def test_switching_language_never_redirects_off_site(client):
    response = client.get("/account/language/fr?next=//evil.example/")

    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


# Size --------------------------------------------------------------------------------------


def test_oversized_idea_submission_is_refused_and_nothing_stored(app, client, citizen, challenge):
    too_big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)

    response = submit_idea(client, body=too_big)

    assert response.status_code == 413
    assert "<h1>Request too large</h1>" in response.get_data(as_text=True)
    assert count(app, Idea) == 0


def test_oversized_registration_is_refused(app, client, mailbox):
    response = client.post(
        "/account/register",
        data={
            "display_name": "x" * (app.config["MAX_CONTENT_LENGTH"] + 1),
            "email": "ada@example.org",
        },
    )

    assert response.status_code == 413
    assert count(app, User) == 0


def test_oversized_request_for_json_clients_is_a_problem_document(app, client, citizen, challenge):
    response = client.post(
        "/challenges/trees/ideas/new",
        headers={"Accept": "application/json"},
        data={"body": "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)},
    )

    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


# JSON clients ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/challenges/nope", "/ideas/999999", "/no/such/page"])
def test_json_clients_get_a_problem_document_for_404(client, url):
    response = client.get(url, headers={"Accept": "application/json"})

    body = response.get_json()
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert set(body) == PROBLEM_KEYS
    assert body["status"] == 404
    assert body["title"] == "Page not found"


def test_json_clients_get_a_problem_document_for_405(client, idea):
    response = client.get(f"/ideas/{idea.id}/vote", headers={"Accept": "application/json"})

    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 405
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize(
    "accept",
    [
        "text/html",
        "*/*",
        "text/html,application/json;q=0.5",
        "",
        "application/xml",
    ],
)
def test_browsers_get_an_html_404(client, accept):
    response = client.get("/challenges/nope", headers={"Accept": accept})

    assert response.status_code == 404
    assert response.mimetype == "text/html"


# Security headers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/challenges",
        "/challenges/trees",
        "/account/sign-in",
        "/challenges/nope",
        "/challenges?tag=%00",
    ],
)
def test_every_answer_carries_the_security_headers(client, challenge, url):
    headers = client.get(url).headers

    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp


def test_redirects_carry_the_security_headers(client, citizen, challenge):
    response = submit_idea(client)

    assert response.status_code == 302
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in response.headers


def test_session_cookie_is_http_only_and_same_site(client, make_user):
    make_user("citizen@example.org")

    response = client.post(
        "/account/sign-in",
        data={
            "email": "citizen@example.org",
            "password": "correct horse battery",
        },
    )

    cookie = next(
        value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


# Unexpected errors -------------------------------------------------------------------------


@pytest.fixture
def failing_app(make_app):
    """An app of its own with a throwaway route that fails after writing to the database
    (the shared app takes no new routes once it has served a request)."""

    def explode():
        db.session.add(Tag(name="half-done"))
        db.session.flush()
        raise RuntimeError("secret-internal-detail in /srv/engage/app.py")

    app = make_app(PROPAGATE_EXCEPTIONS=False)
    app.add_url_rule("/test-explode", "test_explode", explode)
    return app


def test_unexpected_error_shows_the_500_page_in_the_layout(failing_app):
    response = failing_app.test_client().get("/test-explode")

    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    assert "<h1>Something went wrong</h1>" in page
    assert '<main id="main"' in page
    assert "Traceback" not in page
    assert "secret-internal-detail" not in page
    assert "RuntimeError" not in page


def test_unexpected_error_stores_nothing(failing_app):
    failing_app.test_client().get("/test-explode")

    assert count(failing_app, Tag) == 0


def test_unexpected_error_is_logged(failing_app, caplog):
    failing_app.test_client().get("/test-explode")

    assert "Unhandled error on GET /test-explode" in caplog.text
    assert "secret-internal-detail" in caplog.text


def test_unexpected_error_for_json_clients_is_a_problem_document(failing_app):
    response = failing_app.test_client().get(
        "/test-explode", headers={"Accept": "application/json"}
    )

    body = response.get_json()
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert set(body) == PROBLEM_KEYS
    assert "secret-internal-detail" not in response.get_data(as_text=True)


def test_unexpected_error_page_carries_the_security_headers(failing_app):
    response = failing_app.test_client().get("/test-explode")

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in response.headers
