"""The audit's hostile inputs, sent to the HTML forms and links as an attacker would:
over-long fields, wrong types, repeated fields, unknown and huge ids, markup and script,
NUL, invalid UTF-8 and lone surrogates, Markdown bombs, replayed forms, forged CSRF
tokens, staff of another agency and citizens on staff routes.

Each gets a 4xx with a clear message — never a 500 or a traceback — and the database is
left exactly as it was (every table's row count and the fields people can type).
"""

import re
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from pathological_markdown import CORPUS
from sqlalchemy import func, select
from test_markdown import active_content

from engage.agencies.models import Agency
from engage.auth.models import User
from engage.challenges.models import Challenge
from engage.extensions import db
from engage.ideas import decisions
from engage.ideas.models import Comment, Idea

PASSWORD = "correct horse battery"
NUL_MESSAGE = "The request contains characters that are not allowed."
UTF8_MESSAGE = "Part of what you sent is not readable text (it is not valid UTF-8)."
CSRF_MESSAGE = "This form has expired or was already sent."
FIELD_ERROR = re.compile(r'<p class="field-error" id="[^"]+-error">\s*\S')


# The world ---------------------------------------------------------------------------------


@pytest.fixture
def world(make_user, make_agency, make_challenge, make_idea, app_context):
    admin = make_user("admin@example.org", display_name="Alex Admin")
    moderator = make_user("moderator@example.org", display_name="Morgan Moderator")
    outsider = make_user("outsider@example.org", display_name="Olga Outsider")
    citizen = make_user("citizen@example.org", display_name="Ada Citizen")
    make_user("root@example.org", is_admin=True)
    city = make_agency("city", name="City", members=[(admin, "admin"), (moderator, "moderator")])
    other = make_agency("other", name="Other", members=[(outsider, "moderator")])
    trees = make_challenge("open", agency=city, slug="trees", title="Trees")
    harbour = make_challenge("open", agency=other, slug="harbour", title="Harbour")
    idea = make_idea(trees, title="Plant trees")
    accepted = make_idea(trees, title="Shade")
    decisions.decide_idea(admin, accepted, "accept", "Yes.")
    db.session.commit()
    comment = Comment(idea=idea, author=citizen, body="Yes!", body_html="<p>Yes!</p>")
    db.session.add(comment)
    db.session.commit()
    return SimpleNamespace(
        city=city,
        trees=trees,
        idea=idea,
        accepted=accepted,
        own=make_idea(trees, author=citizen, state="changes_requested", title="Mine"),
        pending=make_idea(trees, state="pending", title="Waiting"),
        duplicate=make_idea(trees, title="Plant trees again"),
        foreign=make_idea(harbour, title="Dredge"),
        comment=comment,
    )


def signed_in(app, email: str | None):
    """A client of its own, signed in as `email` (or a visitor when None)."""
    client = app.test_client()
    if email:
        response = client.post("/account/sign-in", data={"email": email, "password": PASSWORD})
        assert response.status_code == 302, "could not sign in"
    return client


def snapshot(app) -> dict:
    """Every table's row count and the typed fields of the main rows, read afresh."""
    with app.app_context():
        rows = {
            table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables
            if table.name != "user_sessions"  # signing in writes here, by design
        }
        rows["ideas"] = db.session.execute(
            select(
                Idea.id, Idea.title, Idea.body, Idea.location, Idea.moderation_state, Idea.decision
            ).order_by(Idea.id)
        ).all()
        rows["users"] = db.session.execute(
            select(User.id, User.display_name, User.organisation_name, User.locale).order_by(
                User.id
            )
        ).all()
        rows["challenges"] = db.session.execute(
            select(Challenge.id, Challenge.title, Challenge.summary, Challenge.vote_limit)
        ).all()
        rows["agencies"] = db.session.execute(select(Agency.id, Agency.name)).all()
        return rows


def text_of(response) -> str:
    return response.get_data(as_text=True)


def assert_clean_refusal(response, status: int, message: str | None = None):
    page = text_of(response)
    assert response.status_code == status, page.partition("<main")[2][:1500]
    assert "Traceback" not in page
    if message:
        assert message in page


# Every typed field of every form -------------------------------------------------------------

CHALLENGE = {
    "title": "Quieter streets",
    "summary": "How can our streets be quieter?",
    "body": "Tell us.",
    "tags": "noise",
    "opens_at": "2031-01-01T09:00",
    "submissions_close_at": "2031-02-01T09:00",
    "voting_closes_at": "2031-03-01T09:00",
    "moderation_mode": "post",
    "vote_limit": "",
    "allow_business": "y",
}
REGISTRATION = {
    "account_type": "business",
    "display_name": "Ada",
    "organisation_name": "Ada Ltd",
    "email": "ada@example.org",
    "password": "violet kettle harbour 42",
    "password_confirm": "violet kettle harbour 42",
}
AGENCY = {
    "name": "Port Authority",
    "slug": "port",
    "description": "",
    "website": "",
    "first_admin_email": "boss@example.org",
}


def _case(who, url, data, field, maximum, long=None):
    return SimpleNamespace(
        who=who, url=url, data=data, field=field, long=long or "x" * (maximum + 1)
    )


# name → (world → the form as sent by the person it belongs to, one typed field attacked)
FORMS = {
    "idea title": lambda w: _case(
        "citizen@example.org",
        "/challenges/trees/ideas/new",
        {"title": "T", "body": "B", "tags": "", "location": ""},
        "title",
        140,
    ),
    "idea body": lambda w: _case(
        "citizen@example.org",
        "/challenges/trees/ideas/new",
        {"title": "T", "body": "B", "tags": "", "location": ""},
        "body",
        10_000,
    ),
    "idea location": lambda w: _case(
        "citizen@example.org",
        "/challenges/trees/ideas/new",
        {"title": "T", "body": "B", "tags": "", "location": ""},
        "location",
        200,
    ),
    "idea tags": lambda w: _case(
        "citizen@example.org",
        "/challenges/trees/ideas/new",
        {"title": "T", "body": "B", "tags": "", "location": ""},
        "tags",
        250,
    ),
    "edited idea title": lambda w: _case(
        "citizen@example.org",
        f"/ideas/{w.own.id}/edit",
        {"title": "T", "body": "B", "tags": "", "location": ""},
        "title",
        140,
    ),
    "comment": lambda w: _case(
        "citizen@example.org", f"/ideas/{w.idea.id}/comments", {"body": "Yes"}, "body", 5_000
    ),
    "registration display name": lambda w: _case(
        None, "/account/register", REGISTRATION, "display_name", 80
    ),
    "registration organisation": lambda w: _case(
        None, "/account/register", REGISTRATION, "organisation_name", 120
    ),
    "registration e-mail": lambda w: _case(
        None, "/account/register", REGISTRATION, "email", 254, "a" * 250 + "@example.org"
    ),
    "profile display name": lambda w: _case(
        "citizen@example.org",
        "/account/",
        {"display_name": "Ada", "organisation_name": "", "locale": "", "timezone": ""},
        "display_name",
        80,
    ),
    "report details": lambda w: _case(
        "citizen@example.org",
        f"/ideas/{w.idea.id}/flag",
        {"reason": "other", "details": "Spam."},
        "details",
        500,
    ),
    "moderation reason": lambda w: _case(
        "moderator@example.org",
        f"/moderation/ideas/{w.pending.id}/decide",
        {"action": "reject", "reason": "Off topic."},
        "reason",
        2_000,
    ),
    "merge reason": lambda w: _case(
        "moderator@example.org",
        f"/moderation/ideas/{w.duplicate.id}/merge",
        {"target_id": str(w.idea.id), "reason": "Same."},
        "reason",
        2_000,
    ),
    "risk note": lambda w: _case(
        "moderator@example.org",
        f"/moderation/ideas/{w.idea.id}/risks",
        {"kind": "privacy", "note": "A name."},
        "note",
        2_000,
    ),
    "challenge title": lambda w: _case(
        "admin@example.org", "/agencies/city/challenges/new", CHALLENGE, "title", 140
    ),
    "challenge summary": lambda w: _case(
        "admin@example.org", "/agencies/city/challenges/new", CHALLENGE, "summary", 500
    ),
    "challenge body": lambda w: _case(
        "admin@example.org", "/agencies/city/challenges/new", CHALLENGE, "body", 20_000
    ),
    "decision response": lambda w: _case(
        "admin@example.org",
        f"/agencies/city/ideas/{w.idea.id}/decision",
        {"action": "shortlist", "response": "Good."},
        "response",
        5_000,
    ),
    "stage note": lambda w: _case(
        "admin@example.org",
        f"/agencies/city/ideas/{w.accepted.id}/stage",
        {"stage": "concept", "note": "Go.", "external_ref": ""},
        "note",
        2_000,
    ),
    "invitation e-mail": lambda w: _case(
        "admin@example.org",
        "/agencies/city/team",
        {"email": "new@example.org", "role": "moderator"},
        "email",
        254,
        "a" * 250 + "@example.org",
    ),
    "token name": lambda w: _case(
        "admin@example.org",
        "/agencies/city/integrations/tokens",
        {"name": "Sync", "scopes": "ideas:read"},
        "name",
        80,
    ),
    "webhook URL": lambda w: _case(
        "admin@example.org",
        "/agencies/city/integrations/webhooks",
        {"url": "https://hooks.example.org/engage"},
        "url",
        500,
        "https://hooks.example.org/" + "a" * 500,
    ),
    "agency name": lambda w: _case("root@example.org", "/admin/", AGENCY, "name", 120),
}


@pytest.fixture(params=sorted(FORMS))
def form(request, app, world):
    case = FORMS[request.param](world)
    case.client = signed_in(app, case.who)
    return case


def post_raw(case, raw_value: bytes):
    """Send the form with the attacked field's value as raw, already-encoded bytes."""
    others = {key: value for key, value in case.data.items() if key != case.field}
    body = urlencode(others, doseq=True).encode() + b"&" + case.field.encode() + b"=" + raw_value
    return case.client.post(case.url, data=body, content_type="application/x-www-form-urlencoded")


def test_over_long_field_is_refused_with_its_error(app, form):
    before = snapshot(app)

    response = form.client.post(form.url, data={**form.data, form.field: form.long})

    assert_clean_refusal(response, 422)
    assert FIELD_ERROR.search(text_of(response))
    assert snapshot(app) == before


def test_nul_in_a_field_is_refused(app, form):
    before = snapshot(app)

    response = form.client.post(form.url, data={**form.data, form.field: "Plant\x00trees"})

    assert_clean_refusal(response, 400, NUL_MESSAGE)
    assert snapshot(app) == before


@pytest.mark.parametrize(
    "raw",
    [b"%FF%FE", b"\xff\xfe", b"caf%C3", b"%ED%A0%80"],
    ids=["percent-encoded", "raw", "truncated", "lone-surrogate"],
)
def test_invalid_utf8_or_lone_surrogate_in_a_field_is_refused(app, form, raw):
    before = snapshot(app)

    response = post_raw(form, raw)

    assert_clean_refusal(response, 400, UTF8_MESSAGE)
    assert snapshot(app) == before


def test_a_field_sent_twice_is_read_once_and_never_fails(app, form):
    data = [(key, value) for key, value in form.data.items() if key != form.field]
    data += [(form.field, form.data[form.field]), (form.field, "x" * 100_000)]

    response = form.client.post(
        form.url, data=urlencode(data), content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code < 500
    assert "x" * 100_000 not in str(snapshot(app))


def test_unknown_extra_fields_are_ignored(app, form):
    response = form.client.post(
        form.url, data={**form.data, "is_admin": "y", "author_id": "1", "id": "1"}
    )

    assert response.status_code < 500
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(User.is_admin)) == 1


# Wrong types -------------------------------------------------------------------------------

WRONG_TYPES = {
    "merge target": ("merge reason", "target_id", ["abc", "1e400", "-1", "1.5", "0x10", "9" * 30]),
    "vote limit": ("challenge title", "vote_limit", ["abc", "1e400", "-5", "0", "1001", "9" * 30]),
    "date": (
        "challenge title",
        "opens_at",
        [
            "tomorrow",
            "2031-02-30T10:00",
            "2031-01-01",
            "9999-12-31T23:59",
            "0001-01-01T00:00",
            "2031-01-01T25:61",
            "",
        ],
    ),
    "account type": ("registration display name", "account_type", ["admin", "", "citizen "]),
    "language": ("profile display name", "locale", ["xx", "../../etc", "fr_FR"]),
    "time zone": ("profile display name", "timezone", ["Mars/Olympus", "../../etc/passwd"]),
    "report reason": ("report details", "reason", ["nope", ""]),
    "risk kind": ("risk note", "kind", ["meteor", ""]),
    "decision": ("decision response", "action", ["explode", "", "accept "]),
    "stage": ("stage note", "stage", ["moon", "", "backlog"]),
    "role": ("invitation e-mail", "role", ["owner", "", "ADMIN"]),
    "token scope": ("token name", "scopes", ["admin:all", ""]),
    "moderation decision": ("moderation reason", "action", ["explode", "", "merge"]),
}


@pytest.mark.parametrize(
    ("form_name", "field", "value"),
    [
        pytest.param(form_name, field, value, id=f"{name}-{value[:12]}")
        for name, (form_name, field, values) in WRONG_TYPES.items()
        for value in values
    ],
)
def test_wrong_type_is_refused_with_a_message(app, world, form_name, field, value):
    case = FORMS[form_name](world)
    client = signed_in(app, case.who)
    before = snapshot(app)

    response = client.post(case.url, data={**case.data, field: value})

    assert_clean_refusal(response, 422)
    page = text_of(response)
    assert FIELD_ERROR.search(page) or 'class="flash flash-error"' in page
    assert snapshot(app) == before


def test_far_future_date_in_a_time_zone_behind_utc_is_refused(app, world, make_user):
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.email == "admin@example.org"))
        admin.timezone = "America/Los_Angeles"
        db.session.commit()
    client = signed_in(app, "admin@example.org")
    before = snapshot(app)

    response = client.post(
        "/agencies/city/challenges/new", data={**CHALLENGE, "voting_closes_at": "9999-12-31T23:59"}
    )

    assert_clean_refusal(response, 422)
    assert snapshot(app) == before


# Markup and script -------------------------------------------------------------------------

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "{{ 7*7 }}{% raw %}",
]


def assert_inert(page: str):
    """Nothing a browser would run: payloads are printed as text or sanitized away."""
    assert active_content(page) == []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markup_in_an_idea_is_shown_as_text(app, world, payload):
    client = signed_in(app, "citizen@example.org")
    response = client.post(
        "/challenges/trees/ideas/new",
        data={"title": payload, "body": payload, "location": payload, "tags": "a"},
    )
    assert response.status_code == 302

    page = text_of(client.get(response.headers["Location"]))

    assert_inert(page)
    if payload.startswith("{{"):
        assert "{{ 7*7 }}" in page  # printed, never evaluated


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markup_in_a_comment_and_a_display_name_is_shown_as_text(app, world, payload):
    client = signed_in(app, "citizen@example.org")
    client.post("/account/", data={"display_name": payload, "locale": "", "timezone": ""})
    assert (
        client.post(f"/ideas/{world.idea.id}/comments", data={"body": payload}).status_code == 302
    )

    assert_inert(text_of(client.get(f"/ideas/{world.idea.id}")))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markup_in_a_moderation_reason_and_a_decision_is_shown_as_text(app, world, payload):
    moderator = signed_in(app, "moderator@example.org")
    admin = signed_in(app, "admin@example.org")
    moderator.post(
        f"/moderation/ideas/{world.pending.id}/decide",
        data={"action": "reject", "reason": payload},
    )
    admin.post(
        f"/agencies/city/ideas/{world.idea.id}/decision",
        data={"action": "shortlist", "response": payload},
    )

    assert_inert(text_of(moderator.get(f"/moderation/ideas/{world.pending.id}")))
    assert_inert(text_of(admin.get(f"/ideas/{world.idea.id}")))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markup_in_a_challenge_and_an_agency_name_is_shown_as_text(app, world, payload):
    admin = signed_in(app, "admin@example.org")
    root = signed_in(app, "root@example.org")
    admin.post(
        "/agencies/city/challenges/new",
        data={**CHALLENGE, "title": payload, "summary": payload, "body": payload},
    )
    root.post("/admin/", data={**AGENCY, "name": payload})

    assert_inert(text_of(admin.get("/agencies/city/workspace")))
    assert_inert(text_of(root.get("/admin/")))


# Markdown bombs ----------------------------------------------------------------------------

BOMBS = ["nested list markers on one line", "nested block quotes", "bracket run", "tags"]
TOO_DEEP = "- " * 300 + "x"  # short enough for every field's length limit


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_markdown_bomb_in_an_idea_is_refused_or_shown(app, world, name):
    client = signed_in(app, "citizen@example.org")
    before = snapshot(app)

    response = client.post(
        "/challenges/trees/ideas/new",
        data={"title": "Bomb", "body": CORPUS[name], "tags": "", "location": ""},
    )

    assert response.status_code in {302, 422}, text_of(response)[:500]
    if response.status_code == 422:
        assert FIELD_ERROR.search(text_of(response))
        assert snapshot(app) == before
    else:
        assert client.get(response.headers["Location"]).status_code == 200
        moderator = signed_in(app, "moderator@example.org")
        assert moderator.get("/agencies/city/moderation").status_code == 200


@pytest.mark.parametrize(
    "form_name",
    ["idea body", "comment", "challenge body", "decision response", "stage note"],
)
def test_too_deeply_nested_markdown_is_refused_with_its_reason(app, world, form_name):
    case = FORMS[form_name](world)
    client = signed_in(app, case.who)
    before = snapshot(app)

    response = client.post(case.url, data={**case.data, case.field: TOO_DEEP})

    assert_clean_refusal(response, 422, "Lists and quotes can be nested at most 12 levels deep.")
    assert snapshot(app) == before


def test_too_deeply_nested_markdown_in_an_edit_is_refused(app, world):
    client = signed_in(app, "citizen@example.org")
    before = snapshot(app)

    response = client.post(
        f"/ideas/{world.own.id}/edit",
        data={"title": "Mine", "body": TOO_DEEP, "tags": "", "location": ""},
    )

    assert_clean_refusal(response, 422, "Lists and quotes can be nested at most 12 levels deep.")
    assert snapshot(app) == before


@pytest.mark.parametrize(
    ("url", "data"),
    [
        (
            "/challenges/trees/ideas/new",
            {"title": "T", "body": TOO_DEEP, "tags": "", "location": "", "preview": "Preview"},
        ),
        ("/agencies/city/challenges/new", {**CHALLENGE, "body": TOO_DEEP, "preview": "Preview"}),
    ],
    ids=["idea", "challenge"],
)
def test_preview_of_a_markdown_bomb_explains_and_stores_nothing(app, world, url, data):
    who = "citizen@example.org" if "ideas" in url else "admin@example.org"
    client = signed_in(app, who)
    before = snapshot(app)

    response = client.post(url, data=data)

    assert response.status_code in {200, 422}
    assert "Lists and quotes can be nested at most 12 levels deep." in text_of(response)
    assert snapshot(app) == before


# Replayed and forged forms -----------------------------------------------------------------

KEY = "k" * 24


def test_the_same_idea_form_sent_twice_creates_one_idea(app, world):
    client = signed_in(app, "citizen@example.org")
    data = {"title": "Twice", "body": "Once.", "tags": "", "location": "", "submission_key": KEY}

    first = client.post("/challenges/trees/ideas/new", data=data)
    second = client.post("/challenges/trees/ideas/new", data=data)

    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Idea.title == "Twice")) == 1


def test_the_same_comment_form_sent_twice_creates_one_comment(app, world):
    client = signed_in(app, "citizen@example.org")
    data = {"body": "Only once.", "submission_key": KEY}

    client.post(f"/ideas/{world.idea.id}/comments", data=data)
    client.post(f"/ideas/{world.idea.id}/comments", data=data)

    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Comment.body == "Only once.")) == 1


def test_a_replayed_idea_form_with_other_text_is_refused(app, world):
    client = signed_in(app, "citizen@example.org")
    data = {"title": "First", "body": "Once.", "tags": "", "location": "", "submission_key": KEY}
    client.post("/challenges/trees/ideas/new", data=data)
    before = snapshot(app)

    response = client.post("/challenges/trees/ideas/new", data={**data, "body": "Other."})

    assert_clean_refusal(response, 422, "This form was already sent.")
    assert snapshot(app) == before


@pytest.mark.parametrize("key", ["short", "x" * 65, "<script>", "a b c d e f g h i j", "é" * 20])
def test_a_malformed_submission_key_is_refused(app, world, key):
    client = signed_in(app, "citizen@example.org")
    before = snapshot(app)

    response = client.post(
        f"/ideas/{world.idea.id}/comments", data={"body": "Hi", "submission_key": key}
    )

    assert response.status_code == 422
    assert snapshot(app) == before


def _token(client, url: str) -> str:
    page = text_of(client.get(url))
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


@pytest.mark.parametrize(
    "form_name",
    ["idea title", "comment", "moderation reason", "webhook URL", "invitation e-mail"],
)
def test_a_csrf_token_from_another_session_is_refused(app, world, form_name):
    case = FORMS[form_name](world)
    victim = signed_in(app, case.who)
    attacker = signed_in(app, "outsider@example.org")
    app.config["WTF_CSRF_ENABLED"] = True
    stolen = _token(attacker, "/account/")
    assert _token(victim, "/account/") != stolen  # the victim's session has its own
    before = snapshot(app)

    response = victim.post(case.url, data={**case.data, "csrf_token": stolen})

    assert_clean_refusal(response, 400, CSRF_MESSAGE)
    assert snapshot(app) == before


def test_a_registration_with_a_csrf_token_of_another_session_is_refused(app, world):
    attacker = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = True
    stolen = _token(attacker, "/account/register")
    victim = app.test_client()
    assert _token(victim, "/account/register") != stolen
    before = snapshot(app)

    response = victim.post("/account/register", data={**REGISTRATION, "csrf_token": stolen})

    assert_clean_refusal(response, 400, CSRF_MESSAGE)
    assert snapshot(app) == before


# Staff of another agency, citizens on staff routes -----------------------------------------

STAFF_ACTIONS = {
    "decide": lambda w: (
        f"/moderation/ideas/{w.idea.id}/decide",
        {"action": "hide", "reason": "x"},
    ),
    "merge": lambda w: (f"/moderation/ideas/{w.duplicate.id}/merge", {"target_id": w.idea.id}),
    "dismiss": lambda w: (f"/moderation/ideas/{w.idea.id}/dismiss-flags", {"reason": "x"}),
    "risk": lambda w: (f"/moderation/ideas/{w.idea.id}/risks", {"kind": "legal", "note": "x"}),
    "clear risk": lambda w: (f"/moderation/ideas/{w.idea.id}/risks/legal/clear", {}),
    "comment": lambda w: (
        f"/moderation/comments/{w.comment.id}/decide",
        {"action": "comment_hide", "reason": "x"},
    ),
    "bulk": lambda w: (
        "/agencies/city/moderation/bulk",
        {"idea_ids": [w.pending.id], "action": "publish", "reason": ""},
    ),
    "target": lambda w: ("/agencies/city/moderation/target", {"hours": "1"}),
    "decision": lambda w: (
        f"/agencies/city/ideas/{w.idea.id}/decision",
        {"action": "accept", "response": "Yes"},
    ),
    "stage": lambda w: (
        f"/agencies/city/ideas/{w.accepted.id}/stage",
        {"stage": "concept", "note": ""},
    ),
    "invite": lambda w: ("/agencies/city/team", {"email": "x@example.org", "role": "admin"}),
    "token": lambda w: (
        "/agencies/city/integrations/tokens",
        {"name": "x", "scopes": "ideas:read"},
    ),
    "webhook": lambda w: ("/agencies/city/integrations/webhooks", {"url": "https://x.example/"}),
    "challenge": lambda w: ("/agencies/city/challenges/new", CHALLENGE),
    "agency": lambda w: ("/admin/", AGENCY),
}


@pytest.mark.parametrize("who", ["outsider@example.org", "citizen@example.org"])
@pytest.mark.parametrize("action", sorted(STAFF_ACTIONS))
def test_staff_actions_by_others_are_refused_and_change_nothing(app, world, who, action):
    url, data = STAFF_ACTIONS[action](world)
    client = signed_in(app, who)
    before = snapshot(app)

    response = client.post(url, data=data)

    assert response.status_code in {403, 404}
    assert "Traceback" not in text_of(response)
    assert snapshot(app) == before


def test_bulk_decision_with_another_agency_s_idea_ids_changes_nothing(app, world):
    client = signed_in(app, "outsider@example.org")
    before = snapshot(app)

    response = client.post(
        "/agencies/other/moderation/bulk",
        data={"idea_ids": [world.pending.id, world.idea.id], "action": "reject", "reason": "x"},
    )

    assert response.status_code == 302
    assert snapshot(app) == before


def test_merging_into_another_agency_s_idea_is_refused(app, world):
    client = signed_in(app, "moderator@example.org")
    before = snapshot(app)

    response = client.post(
        f"/moderation/ideas/{world.duplicate.id}/merge", data={"target_id": world.foreign.id}
    )

    assert_clean_refusal(response, 422, "Choose another idea of the same challenge.")
    assert snapshot(app) == before


@pytest.mark.parametrize(
    "url",
    [
        "/agencies/city/workspace",
        "/agencies/city/moderation",
        "/moderation",
        "/moderation/ideas/{idea}",
        "/agencies/city/team",
        "/agencies/city/integrations",
        "/agencies/city/challenges/trees/ideas",
        "/agencies/city/challenges/trees/ideas.csv",
        "/admin/",
        "/admin/users?q=a",
    ],
)
def test_staff_pages_are_not_found_for_citizens(app, world, url):
    response = signed_in(app, "citizen@example.org").get(url.format(idea=world.idea.id))

    assert_clean_refusal(response, 404)


# Unknown and huge ids ----------------------------------------------------------------------

HUGE_IDS = ["999999", "2147483648", "9" * 40]


@pytest.mark.parametrize("ident", HUGE_IDS)
@pytest.mark.parametrize(
    ("who", "method", "url"),
    [
        ("moderator@example.org", "get", "/moderation/ideas/{id}"),
        ("moderator@example.org", "post", "/moderation/ideas/{id}/decide"),
        ("moderator@example.org", "post", "/moderation/ideas/{id}/merge"),
        ("moderator@example.org", "post", "/moderation/comments/{id}/decide"),
        ("citizen@example.org", "get", "/ideas/{id}/flag"),
        ("citizen@example.org", "post", "/comments/{id}/flag"),
        ("admin@example.org", "get", "/agencies/city/ideas/{id}/decision"),
        ("admin@example.org", "post", "/agencies/city/ideas/{id}/stage"),
        ("admin@example.org", "post", "/agencies/city/team/{id}/role"),
        ("admin@example.org", "post", "/agencies/city/invitations/{id}/revoke"),
        ("admin@example.org", "post", "/agencies/city/integrations/tokens/{id}/revoke"),
        ("admin@example.org", "post", "/agencies/city/integrations/webhooks/{id}/remove"),
        ("root@example.org", "post", "/admin/users/{id}/suspend"),
    ],
)
def test_unknown_or_huge_ids_are_not_found(app, world, who, method, url, ident):
    client = signed_in(app, who)

    response = getattr(client, method)(url.format(id=ident), data={"reason": "x"})

    assert_clean_refusal(response, 404)


@pytest.mark.parametrize("ident", ["999999", "2147483648", "9" * 40])
def test_merge_into_an_unknown_or_huge_idea_number_is_refused(app, world, ident):
    client = signed_in(app, "moderator@example.org")
    before = snapshot(app)

    response = client.post(
        f"/moderation/ideas/{world.duplicate.id}/merge", data={"target_id": ident}
    )

    assert_clean_refusal(response, 422)
    assert FIELD_ERROR.search(text_of(response))
    assert snapshot(app) == before


@pytest.mark.parametrize(
    "token", ["garbage", "a" * 5000, "..%2F..%2Fetc", "eyJ0eXAiOiJKV1QifQ.e30.", "%F0%9F%8C%B3"]
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_invitation_links_that_are_not_ours_are_refused(app, world, token, method):
    client = signed_in(app, "citizen@example.org")
    before = snapshot(app)

    response = getattr(client, method)(f"/invitations/{token}")

    assert response.status_code in {400, 404}
    assert "Traceback" not in text_of(response)
    assert snapshot(app) == before


# Links: wrong types in query strings -------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "url"),
    [
        (None, "/challenges?page=1e400&phase=%3Cscript%3E"),
        (None, "/challenges/trees?page=-1&sort=../../&tag=" + "t" * 5000),
        (None, "/challenges/trees?page=99999999999999999999"),
        ("admin@example.org", "/agencies/city/challenges/trees/ideas?page=abc&decision=x&risk=y"),
        ("admin@example.org", "/agencies/city/challenges/trees/ideas?author_type=robot&tag[]=a"),
        ("admin@example.org", "/agencies/city/challenges/trees/ideas.csv?decision=%3Cx%3E"),
        ("moderator@example.org", "/agencies/city/moderation?challenge=abc&kind=zzz"),
        ("moderator@example.org", "/agencies/city/moderation?challenge=99999999999999999999"),
        ("root@example.org", "/admin/users?q=" + "%25" * 300),
    ],
)
def test_wrong_types_in_links_are_ignored(app, world, who, url):
    response = signed_in(app, who).get(url)

    assert response.status_code == 200
    assert "Traceback" not in text_of(response)


@pytest.mark.parametrize(
    "url",
    ["/challenges/trees?sort=%00", "/agencies/city/moderation?kind=%ED%A0%80"],
)
def test_broken_text_in_links_is_refused(app, world, url):
    response = signed_in(app, "moderator@example.org").get(url)

    assert response.status_code == 400
