"""The moderation workspace through the real routes: the queue, an idea's file with its
decisions, merges, reports and risks, bulk decisions, the report pages, what authors see
and which buttons each person is shown."""

import html as html_lib
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engage.audit import ModerationAction
from engage.db import now_utc
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
    return make_agency("city", name="City of Example", members=[(moderator, "moderator")])


@pytest.fixture
def challenge(make_challenge, agency):
    return make_challenge("open", agency=agency, moderation_mode="pre", title="Greener city")


@pytest.fixture
def author(make_user, moderator):
    return make_user("author@example.org", display_name="Ada Author")


@pytest.fixture
def as_moderator(auth, moderator, agency):
    auth.login("moderator@example.org")
    return moderator


@pytest.fixture
def threshold(app):
    app.config["FLAG_HIDE_THRESHOLD"] = 3

    def set_to(value: int):
        app.config["FLAG_HIDE_THRESHOLD"] = value

    return set_to


def _text(markup: str) -> str:
    """The visible text of some HTML, with whitespace collapsed."""
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def _page(response) -> str:
    return response.get_data(as_text=True)


def _field_error(markup: str, field_id: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field_id}-error">(.*?)</p>', markup, re.S)
    return _text(match.group(1)) if match else ""


def _rows(markup: str) -> list[str]:
    """The rows of the queue page, in order."""
    rows = markup.split('<li class="queue-row')[1:]
    if rows:
        rows[-1] = rows[-1].split('<fieldset class="bulk">')[0]
    return rows


def _row_for(markup: str, title: str) -> str:
    [row] = [r for r in _rows(markup) if title in r]
    return row


def _fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def _records(**where) -> list[ModerationAction]:
    query = select(ModerationAction).order_by(ModerationAction.id)
    for name, value in where.items():
        query = query.where(getattr(ModerationAction, name) == value)
    return db.session.scalars(query).all()


def _flag(reporter, item, reason="spam", details=None):
    services.flag_content(reporter, item, reason, details)
    db.session.commit()


def _comment(author, idea, body="A comment."):
    comment = ideas.add_comment(author, idea, body)
    db.session.commit()
    return comment


def _queue(client, **args) -> str:
    response = client.get("/agencies/city/moderation", query_string=args)
    assert response.status_code == 200
    return _page(response)


def _age(item, hours: float) -> None:
    item.queued_at = now_utc() - timedelta(hours=hours)
    db.session.commit()


# --- the queue --------------------------------------------------------------------------


def test_moderation_link_takes_a_moderator_to_their_agency_queue(client, as_moderator):
    response = client.get("/moderation")

    assert response.status_code == 302
    assert response.headers["Location"] == "/agencies/city/moderation"


def test_moderation_index_lists_the_agencies_of_a_site_admin(client, auth, make_user, make_agency):
    make_user("admin@example.org", is_admin=True)
    make_agency("north", name="North Council")
    make_agency("south", name="South Council")
    auth.login("admin@example.org")

    page = _page(client.get("/moderation"))

    assert 'href="/agencies/north/moderation"' in page
    assert 'href="/agencies/south/moderation"' in page


def test_queue_shows_only_the_moderators_agency(
    client, as_moderator, challenge, make_idea, make_challenge
):
    make_idea(challenge, state="pending", title="Benches in the park")
    elsewhere = make_challenge("open", moderation_mode="pre")
    make_idea(elsewhere, state="pending", title="Trams for the suburbs")

    page = _queue(client)

    assert "Benches in the park" in page
    assert "Trams for the suburbs" not in page
    assert len(_rows(page)) == 1


def test_queue_lists_the_oldest_items_first(
    client, as_moderator, challenge, make_idea, make_user, threshold
):
    newest = make_idea(challenge, state="pending", title="Newest idea")
    oldest = make_idea(challenge, state="pending", title="Oldest idea")
    commented = make_idea(challenge, title="Commented idea")
    comment = _comment(make_user(), commented, "Middle-aged comment")
    _flag(make_user(), comment)
    _age(newest, 1)
    _age(oldest, 30)
    _age(comment, 10)

    rows = _rows(_queue(client))

    assert [
        "Oldest idea" in rows[0],
        "Middle-aged comment" in rows[1],
        "Newest idea" in rows[2],
    ] == [True, True, True]


def test_queue_counts_each_kind(client, as_moderator, challenge, make_idea, make_user, threshold):
    for _ in range(2):
        make_idea(challenge, state="pending")
    reported = make_idea(challenge)
    _flag(make_user(), reported)
    for _ in range(3):
        _flag(make_user(), _comment(make_user(), reported))

    text = _text(_queue(client))

    assert "Everything (6)" in text
    assert "Waiting ideas (2)" in text
    assert "Reported ideas (1)" in text
    assert "Reported comments (3)" in text


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("pending", {"Waiting idea"}),
        ("flagged_ideas", {"Reported idea"}),
        ("flagged_comments", {"Reported comment"}),
        ("", {"Waiting idea", "Reported idea", "Reported comment"}),
    ],
)
def test_queue_filters_by_kind(
    client, as_moderator, challenge, make_idea, make_user, threshold, kind, expected
):
    make_idea(challenge, state="pending", title="Riverside benches")
    reported = make_idea(challenge, title="Discount watches")
    _flag(make_user(), reported)
    _flag(make_user(), _comment(make_user(), make_idea(challenge), "Cheap followers"))
    names = {
        "Riverside benches": "Waiting idea",
        "Discount watches": "Reported idea",
        "Cheap followers": "Reported comment",
    }

    rows = _rows(_queue(client, kind=kind))

    shown = {label for name, label in names.items() if any(name in row for row in rows)}
    assert shown == expected
    assert len(rows) == len(expected)


@pytest.mark.parametrize("kind", ["everything", "PENDING", "flagged", "<script>"])
def test_unknown_kind_shows_everything(
    client, as_moderator, challenge, make_idea, make_user, threshold, kind
):
    make_idea(challenge, state="pending", title="Waiting idea")
    _flag(make_user(), _comment(make_user(), make_idea(challenge), "Reported comment"))

    page = _queue(client, kind=kind)

    assert len(_rows(page)) == 2
    assert "<script>" not in page


def test_queue_filters_by_challenge(
    client, as_moderator, agency, challenge, make_idea, make_challenge
):
    other = make_challenge("open", agency=agency, moderation_mode="pre", title="Services")
    make_idea(challenge, state="pending", title="Shade trees")
    make_idea(other, state="pending", title="Online appointments")

    page = _queue(client, challenge=other.id)

    assert [("Online appointments" in row) for row in _rows(page)] == [True]
    assert f'<option value="{other.id}" selected>' in page


@pytest.mark.parametrize("value", ["abc", "999999", "-1", "", "1e3"])
def test_unknown_challenge_filter_shows_every_challenge(
    client, as_moderator, agency, challenge, make_idea, make_challenge, value
):
    other = make_challenge("open", agency=agency, moderation_mode="pre")
    make_idea(challenge, state="pending")
    make_idea(other, state="pending")

    assert len(_rows(_queue(client, challenge=value))) == 2


def test_challenge_filter_of_another_agency_is_ignored(
    client, as_moderator, challenge, make_idea, make_challenge
):
    foreign = make_challenge("open", moderation_mode="pre", title="Foreign challenge")
    make_idea(foreign, state="pending", title="Foreign idea")
    make_idea(challenge, state="pending", title="Own idea")

    page = _queue(client, challenge=foreign.id)

    assert "Own idea" in page
    assert "Foreign idea" not in page and "Foreign challenge" not in page


def test_queue_row_shows_what_is_needed_to_decide(
    client, as_moderator, challenge, make_idea, make_user
):
    business = make_user(account_type="business")
    make_idea(
        challenge,
        state="pending",
        author=business,
        title="Solar roofs",
        body="Put **solar panels** on every school roof.",
    )
    make_idea(challenge, state="pending", title="Benches")

    page = _queue(client)

    solar = _text(_row_for(page, "Solar roofs"))
    assert "Solar roofs" in solar
    assert "Put solar panels on every school roof." in solar
    assert "business" in solar
    assert "Greener city" in solar
    assert "Waiting for moderation" in solar
    assert "waiting" in solar
    assert "citizen" in _text(_row_for(page, "Benches"))


def test_queue_row_shows_the_reasons_of_open_flags(
    client, as_moderator, challenge, make_idea, make_user, threshold
):
    idea = make_idea(challenge, title="Cheap watches")
    _flag(make_user(), idea, "spam")
    _flag(make_user(), idea, "other", "Copied from an advert.")

    row = _text(_row_for(_queue(client), "Cheap watches"))

    assert "2 reports" in row
    assert "Spam or advertising" in row
    assert "Something else : Copied from an advert." in row


def test_queue_row_of_a_comment_shows_its_text_and_reports(
    client, as_moderator, challenge, make_idea, make_user, threshold
):
    idea = make_idea(challenge, title="Benches")
    comment = _comment(make_user(account_type="business"), idea, "Visit *our shop* now")
    _flag(make_user(), comment, "spam")

    row = _row_for(_queue(client), "Visit")

    assert "Comment on “Benches”" in _text(row)
    assert "<em>our shop</em>" in row
    assert "Spam or advertising" in row
    assert "business" in _text(row)


def test_queue_row_shows_the_risks_of_the_idea(client, as_moderator, challenge, make_idea):
    idea = make_idea(challenge, state="pending", title="Camera on every corner")
    services.set_risk_flag(as_moderator, idea, "privacy", "Films neighbours.")
    services.set_risk_flag(as_moderator, idea, "legal", "Needs a permit.")
    db.session.commit()

    row = _row_for(_queue(client), "Camera on every corner")

    assert '<span class="tag">Legal</span>' in row
    assert '<span class="tag">Privacy</span>' in row


def test_queue_row_lists_similar_ideas_of_the_same_challenge(
    client, as_moderator, agency, challenge, make_idea, make_challenge
):
    original = make_idea(challenge, title="Plant fruit trees in Riverside Park")
    make_idea(challenge, title="Protected bike lanes")
    make_idea(make_challenge("open", agency=agency), title="Fruit trees at the station")
    make_idea(challenge, state="pending", title="More fruit trees in our parks")

    row = _row_for(_queue(client), "More fruit trees in our parks")

    similar = row.split('class="similar-list"')[1]
    assert f"#{original.id} Plant fruit trees in Riverside Park" in similar
    assert "Protected bike lanes" not in similar
    assert "at the station" not in similar


def test_queue_row_without_similar_ideas_lists_none(client, as_moderator, challenge, make_idea):
    make_idea(challenge, title="Protected bike lanes")
    make_idea(challenge, state="pending", title="Library open on Sundays")

    assert "Similar ideas" not in _queue(client)


def test_item_waiting_longer_than_the_target_is_overdue(
    client, as_moderator, challenge, make_idea
):
    late = make_idea(challenge, state="pending", title="Riverside benches")
    make_idea(challenge, state="pending", title="Discount watches")
    _age(late, 49)

    page = _queue(client)

    late_row, fresh_row = _row_for(page, "Riverside"), _row_for(page, "Discount")
    assert late_row.startswith(' overdue"')
    assert "Overdue" in _text(late_row)
    assert fresh_row.startswith('"')
    assert "Overdue" not in _text(fresh_row)


def test_smaller_target_makes_items_overdue_sooner(
    client, as_moderator, agency, challenge, make_idea
):
    idea = make_idea(challenge, state="pending", title="Two hours old")
    _age(idea, 2)
    assert "Overdue" not in _text(_row_for(_queue(client), "Two hours old"))
    agency.moderation_target_hours = 1
    db.session.commit()

    page = _queue(client)

    assert "Overdue" in _text(_row_for(page, "Two hours old"))
    assert "Target: a decision within 1 hour." in _text(page)


def test_flagged_comment_past_the_target_is_overdue(
    client, as_moderator, challenge, make_idea, make_user, threshold
):
    comment = _comment(make_user(), make_idea(challenge), "Old report")
    _flag(make_user(), comment)
    _age(comment, 72)

    assert "Overdue" in _text(_row_for(_queue(client), "Old report"))


def test_empty_queue_says_nothing_is_waiting(client, as_moderator, challenge, make_idea):
    make_idea(challenge, title="Already published")

    page = _queue(client)

    assert "Nothing is waiting. Well done!" in page
    assert _rows(page) == []
    assert 'id="bulk-form"' not in page


def test_only_pending_ideas_offer_publish_and_selection(
    client, as_moderator, challenge, make_idea, make_user, threshold
):
    pending = make_idea(challenge, state="pending", title="Riverside benches")
    reported = make_idea(challenge, title="Discount watches")
    _flag(make_user(), reported)

    page = _queue(client)

    waiting_row, reported_row = _row_for(page, "Riverside"), _row_for(page, "Discount")
    assert f'name="idea_ids" value="{pending.id}"' in waiting_row
    assert 'value="publish"' in waiting_row
    assert 'name="idea_ids"' not in reported_row
    assert 'value="publish"' not in reported_row


def test_target_form_is_shown_to_agency_admins_only(client, auth, as_moderator, agency_admin):
    assert "Save target" not in _queue(client)
    auth.logout()
    auth.login("admin@example.org")

    assert "Save target" in _queue(client)


@pytest.fixture
def agency_admin(make_user, agency):
    from engage.agencies.models import Membership

    admin = make_user("admin@example.org", display_name="Alex Admin")
    db.session.add(Membership(agency_id=agency.id, user_id=admin.id, role="admin"))
    db.session.commit()
    return admin


def test_agency_admin_sets_the_target_through_the_form(client, auth, agency, agency_admin):
    auth.login("admin@example.org")

    response = client.post("/agencies/city/moderation/target", data={"hours": "12"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/agencies/city/moderation"
    assert _fresh(type(agency), agency.id).moderation_target_hours == 12
    assert "The moderation target is saved." in _page(client.get(response.headers["Location"]))


@pytest.mark.parametrize("hours", ["0", "721", "-5", "twelve", ""])
def test_target_out_of_range_is_refused_with_a_message(client, auth, agency, agency_admin, hours):
    auth.login("admin@example.org")

    response = client.post(
        "/agencies/city/moderation/target", data={"hours": hours}, follow_redirects=True
    )

    assert "Choose between 1 and 720 hours." in _page(response)
    assert _fresh(type(agency), agency.id).moderation_target_hours == 48


# --- an idea's file and its decisions ---------------------------------------------------


def _decide(client, idea_id, action, reason="", **extra):
    response = client.post(
        f"/moderation/ideas/{idea_id}/decide", data={"action": action, "reason": reason, **extra}
    )
    db.session.expire_all()  # the request changed the rows behind the test's objects
    return response


def _buttons(markup: str) -> list[str]:
    return re.findall(r'<button type="submit" name="action" value="(\w+)"', markup)


@pytest.mark.parametrize(
    ("state", "buttons"),
    [
        ("pending", ["publish", "reject", "request_changes"]),
        ("published", ["hide"]),
        ("hidden", ["restore"]),
        ("rejected", []),
        ("changes_requested", []),
    ],
)
def test_idea_file_offers_the_decisions_its_state_allows(
    client, as_moderator, challenge, make_idea, state, buttons
):
    idea = make_idea(challenge, state=state)

    page = _page(client.get(f"/moderation/ideas/{idea.id}"))

    decide_section = page.split('id="decide-title"')[1].split('id="risk-title"')[0]
    assert _buttons(decide_section) == buttons
    if not buttons:
        assert "No moderation decision is possible in this state." in page


@pytest.mark.parametrize(
    ("state", "can_merge"),
    [
        ("pending", True),
        ("published", True),
        ("hidden", True),
        ("rejected", False),
    ],
)
def test_idea_file_offers_merging_when_its_state_allows(
    client, as_moderator, challenge, make_idea, state, can_merge
):
    idea = make_idea(challenge, state=state)

    page = _page(client.get(f"/moderation/ideas/{idea.id}"))

    assert (f'action="/moderation/ideas/{idea.id}/merge"' in page) is can_merge


def test_idea_file_labels_each_field_once(
    client, as_moderator, challenge, make_idea, make_user, threshold
):
    idea = make_idea(challenge)
    _flag(make_user(), idea)
    _comment(make_user(), idea)

    page = _page(client.get(f"/moderation/ideas/{idea.id}"))

    for target in re.findall(r'<label for="([^"]+)"', page):
        assert len(re.findall(rf'\sid="{re.escape(target)}"', page)) == 1, target


def test_publish_button_publishes_and_returns_to_the_queue(
    client, as_moderator, challenge, author, make_idea, mailbox
):
    idea = make_idea(challenge, author=author, state="pending", title="Benches")

    response = _decide(client, idea.id, "publish", next="/agencies/city/moderation?kind=pending")

    assert response.status_code == 302
    assert response.headers["Location"] == "/agencies/city/moderation?kind=pending"
    stored = _fresh(Idea, idea.id)
    assert (stored.moderation_state, stored.queued_at) == ("published", None)
    assert [m["Subject"] for m in mailbox] == ["Your idea “Benches” was published"]
    assert "Decision saved: Published." in _page(client.get(response.headers["Location"]))


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:x"])
def test_decision_ignores_an_unsafe_next(client, as_moderator, challenge, make_idea, target):
    idea = make_idea(challenge, state="pending")

    response = _decide(client, idea.id, "publish", next=target)

    assert response.headers["Location"] == f"/moderation/ideas/{idea.id}"


@pytest.mark.parametrize("reason", ["", "   "])
def test_reject_without_reason_answers_422_and_changes_nothing(
    client, as_moderator, challenge, make_idea, mailbox, reason
):
    idea = make_idea(challenge, state="pending")

    response = _decide(client, idea.id, "reject", reason)

    assert response.status_code == 422
    page = _page(response)
    assert _field_error(page, "reason") == "A reason is required for this decision."
    assert 'aria-invalid="true"' in page
    assert _fresh(Idea, idea.id).moderation_state == "pending"
    assert _records() == []
    assert mailbox == []


def test_reject_with_reason_is_saved_and_told_to_the_author(
    client, as_moderator, challenge, author, make_idea, mailbox
):
    idea = make_idea(challenge, author=author, state="pending", title="Benches")

    response = _decide(client, idea.id, "reject", "Already planned.")

    assert response.status_code == 302
    stored = _fresh(Idea, idea.id)
    assert (stored.moderation_state, stored.moderation_reason) == ("rejected", "Already planned.")
    [message] = mailbox
    assert message["Subject"] == "Your idea “Benches” was rejected"
    assert "Already planned." in message.get_content()


@pytest.mark.parametrize(
    ("state", "action", "reason", "outcome"),
    [
        ("pending", "publish", "", "was published"),
        ("pending", "reject", "Out of scope.", "was rejected"),
        ("pending", "request_changes", "Add a map.", "was sent back for changes"),
        ("published", "hide", "Advertising.", "was hidden"),
        ("hidden", "restore", "", "was published again"),
    ],
)
def test_each_decision_through_the_file_emails_the_author(
    client, as_moderator, challenge, author, make_idea, mailbox, state, action, reason, outcome
):
    idea = make_idea(challenge, author=author, state=state, title="Benches")

    assert _decide(client, idea.id, action, reason).status_code == 302

    [message] = mailbox
    assert (message["To"], message["Subject"]) == (
        "author@example.org",
        f"Your idea “Benches” {outcome}",
    )
    assert reason in message.get_content()


def test_too_long_reason_answers_422(client, as_moderator, challenge, make_idea):
    idea = make_idea(challenge, state="pending")

    response = _decide(client, idea.id, "reject", "x" * 2001)

    assert response.status_code == 422
    assert _field_error(_page(response), "reason") == "Use at most 2000 characters."
    assert _fresh(Idea, idea.id).moderation_state == "pending"


@pytest.mark.parametrize(
    ("state", "action"), [("published", "publish"), ("rejected", "hide"), ("pending", "restore")]
)
def test_illegal_decision_answers_422_with_a_clear_message(
    client, as_moderator, challenge, make_idea, state, action
):
    idea = make_idea(challenge, state=state)

    response = _decide(client, idea.id, action, "A reason")

    assert response.status_code == 422
    assert "that action is not possible now." in _text(_page(response))
    assert _fresh(Idea, idea.id).moderation_state == state
    assert _records() == []


@pytest.mark.parametrize("action", ["", "destroy", "merge", "withdraw"])
def test_unknown_decision_answers_422(client, as_moderator, challenge, make_idea, action):
    idea = make_idea(challenge, state="pending")

    response = _decide(client, idea.id, action, "A reason")

    assert response.status_code == 422
    assert _fresh(Idea, idea.id).moderation_state == "pending"


def test_hide_and_restore_through_the_file(client, as_moderator, challenge, make_idea):
    idea = make_idea(challenge)

    assert _decide(client, idea.id, "hide", "Advertising.").status_code == 302
    assert _fresh(Idea, idea.id).moderation_state == "hidden"
    assert _decide(client, idea.id, "restore").status_code == 302
    assert _fresh(Idea, idea.id).moderation_state == "published"


def test_decisions_need_post(client, as_moderator, challenge, make_idea):
    idea = make_idea(challenge, state="pending")

    assert client.get(f"/moderation/ideas/{idea.id}/decide").status_code == 405


def test_decision_without_csrf_token_is_refused(
    client, as_moderator, challenge, make_idea, csrf_app
):
    idea = make_idea(challenge, state="pending")

    response = _decide(client, idea.id, "publish")

    assert response.status_code in (400, 422)
    assert _fresh(Idea, idea.id).moderation_state == "pending"


def test_request_changes_sends_the_author_to_edit_and_back_to_the_queue(
    client, auth, as_moderator, challenge, author, make_idea, mailbox
):
    idea = make_idea(challenge, author=author, state="pending", title="Benches")
    response = _decide(client, idea.id, "request_changes", "Which district do you mean?")
    assert response.status_code == 302
    assert "Benches" not in _queue(client)
    assert f"/ideas/{idea.id}/edit" in mailbox[0].get_content()
    auth.logout()
    auth.login("author@example.org")

    edit_page = _page(client.get(f"/ideas/{idea.id}/edit"))
    response = client.post(
        f"/ideas/{idea.id}/edit",
        data={
            "title": "Benches in the north district",
            "body": "Ten benches along the river.",
            "tags": "",
            "location": "North district",
            "submit": "Save changes",
        },
    )

    assert "Which district do you mean?" in edit_page
    assert response.status_code == 302
    stored = _fresh(Idea, idea.id)
    assert (stored.moderation_state, stored.title) == ("pending", "Benches in the north district")
    assert stored.queued_at is not None
    auth.logout()
    auth.login("moderator@example.org")
    assert "Benches in the north district" in _row_for(_queue(client), "north district")


def test_history_lists_every_action_on_the_idea(
    client, as_moderator, challenge, make_idea, make_user, threshold
):
    threshold(1)
    idea = make_idea(challenge, state="pending")
    _decide(client, idea.id, "publish")
    comment = _comment(make_user(), idea)
    client.post(
        f"/moderation/comments/{comment.id}/decide",
        data={"action": "hide", "reason": "Rude words."},
    )
    _flag(make_user(), idea)

    page = _page(client.get(f"/moderation/ideas/{idea.id}"))

    table = page.split('<table class="history">')[1].split("</table>")[0]
    rows = [_text(row) for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]]
    assert len(rows) == 3
    assert "Morgan Moderator Published pending → published" in rows[0]
    assert "Morgan Moderator Comment hidden (comment) visible → hidden Rude words." in rows[1]
    assert "automatic Hidden automatically after reports published → hidden" in rows[2]


def test_history_of_an_idea_without_actions_says_so(client, as_moderator, challenge, make_idea):
    idea = make_idea(challenge, state="pending")

    assert "No moderation action yet." in _page(client.get(f"/moderation/ideas/{idea.id}"))


def test_history_table_offers_no_way_to_change_it(client, as_moderator, challenge, make_idea):
    idea = make_idea(challenge, state="pending")
    _decide(client, idea.id, "publish")

    page = _page(client.get(f"/moderation/ideas/{idea.id}"))

    table = page.split('<table class="history">')[1].split("</table>")[0]
    assert "<form" not in table and "<button" not in table


# --- merging ----------------------------------------------------------------------------


@pytest.fixture
def pair(challenge, author, make_idea):
    target = make_idea(challenge, title="Plant fruit trees in Riverside Park")
    duplicate = make_idea(challenge, author=author, title="More fruit trees in our parks")
    return duplicate, target


def _merge(client, duplicate_id, target_id, reason=""):
    response = client.post(
        f"/moderation/ideas/{duplicate_id}/merge",
        data={"target_id": str(target_id), "reason": reason},
    )
    db.session.expire_all()
    return response


def test_merge_form_lists_similar_ideas(client, as_moderator, pair):
    duplicate, target = pair

    page = _page(client.get(f"/moderation/ideas/{duplicate.id}"))

    merge_section = page.split('id="merge-title"')[1].split("</section>")[0]
    assert f"#{target.id}" in merge_section and target.title in merge_section


def test_merge_through_the_form_moves_votes_once(
    client, as_moderator, pair, make_user, make_vote, mailbox
):
    duplicate, target = pair
    both = make_user()
    make_vote(both, duplicate)
    make_vote(both, target)
    make_vote(make_user(), duplicate)

    response = _merge(client, duplicate.id, target.id, "Same idea.")

    assert response.status_code == 302
    stored = _fresh(Idea, duplicate.id)
    assert (stored.moderation_state, stored.merged_into_id) == ("merged", target.id)
    target_votes = db.session.scalar(select(func.count(Vote.id)).where(Vote.idea_id == target.id))
    assert _fresh(Idea, target.id).vote_count == target_votes == 2
    assert [m["To"] for m in mailbox] == ["author@example.org"]
    assert "The ideas are merged." in _page(client.get(response.headers["Location"]))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Enter the number of the idea."),
        ("abc", "Enter the number of the idea."),
        ("0", "Enter the number of the idea."),
        ("99999", "There is no idea with this number."),
    ],
)
def test_merge_with_a_bad_number_answers_422(client, as_moderator, pair, value, message):
    duplicate, _ = pair

    response = _merge(client, duplicate.id, value)

    assert response.status_code == 422
    assert _field_error(_page(response), "target_id") == message
    assert _fresh(Idea, duplicate.id).moderation_state == "published"


def test_merge_into_an_unpublished_idea_answers_422(
    client, as_moderator, challenge, pair, make_idea
):
    duplicate, _ = pair
    pending = make_idea(challenge, state="pending")

    response = _merge(client, duplicate.id, pending.id)

    assert response.status_code == 422
    assert _field_error(_page(response), "target_id") == (
        "Ideas can only be merged into a published idea."
    )
    assert _fresh(Idea, duplicate.id).moderation_state == "published"
    assert _records() == []


def test_merge_into_an_idea_of_another_agency_answers_422(client, as_moderator, pair, make_idea):
    duplicate, _ = pair
    foreign = make_idea()

    response = _merge(client, duplicate.id, foreign.id)

    assert response.status_code == 422
    assert _field_error(_page(response), "target_id") == (
        "Choose another idea of the same challenge."
    )
    assert _fresh(Idea, duplicate.id).merged_into_id is None


def test_merge_into_itself_answers_422(client, as_moderator, pair):
    duplicate, _ = pair

    response = _merge(client, duplicate.id, duplicate.id)

    assert response.status_code == 422
    assert _fresh(Idea, duplicate.id).moderation_state == "published"


def test_merged_idea_page_points_to_the_target_and_keeps_its_comments(
    client, as_moderator, pair, make_user
):
    duplicate, target = pair
    _comment(make_user(display_name="Pat"), duplicate, "Apple trees, please.")
    _merge(client, duplicate.id, target.id)
    client.post("/account/sign-out")

    page = _page(client.get(f"/ideas/{duplicate.id}"))

    assert "This idea was merged with a similar one." in page
    assert f'href="/ideas/{target.id}"' in page
    assert "Apple trees, please." in page
    assert 'action="/ideas/' not in page.split('id="comments"')[1]


# --- reports: dismiss and uphold --------------------------------------------------------


@pytest.fixture
def reported_idea(challenge, author, make_idea, make_user, threshold):
    """A published idea reported by three people, and so hidden pending review."""
    idea = make_idea(challenge, author=author, title="Cheap watches")
    for _ in range(3):
        _flag(make_user(), idea, "spam")
    return idea


def test_idea_file_lists_open_reports(client, as_moderator, reported_idea):
    page = _page(client.get(f"/moderation/ideas/{reported_idea.id}"))

    reports = page.split('id="reports-title"')[1].split("</section>")[0]
    assert _text(reports).count("Spam or advertising") == 3
    assert "Dismiss the reports and restore" in _text(page)
    assert "Keep hidden" in _text(page)


def test_dismiss_reports_restores_the_idea(client, as_moderator, reported_idea, mailbox):
    response = client.post(
        f"/moderation/ideas/{reported_idea.id}/dismiss-flags",
        data={"reason": "Not spam: a watch repair café."},
    )

    assert response.status_code == 302
    stored = _fresh(Idea, reported_idea.id)
    assert (stored.moderation_state, stored.open_flag_count, stored.queued_at) == (
        "published",
        0,
        None,
    )
    assert [m["To"] for m in mailbox] == ["author@example.org"]
    assert "Cheap watches" not in _queue(client)


def test_dismiss_reports_without_reason_answers_422(client, as_moderator, reported_idea):
    response = client.post(
        f"/moderation/ideas/{reported_idea.id}/dismiss-flags", data={"reason": ""}
    )

    assert response.status_code == 422
    assert "A reason is required." in _text(_page(response))
    assert _fresh(Idea, reported_idea.id).open_flag_count == 3


def test_uphold_reports_keeps_the_idea_hidden(client, as_moderator, reported_idea, mailbox):
    response = client.post(
        f"/moderation/ideas/{reported_idea.id}/uphold-flags", data={"reason": "Advertising."}
    )

    assert response.status_code == 302
    stored = _fresh(Idea, reported_idea.id)
    assert (stored.moderation_state, stored.moderation_reason, stored.open_flag_count) == (
        "hidden",
        "Advertising.",
        0,
    )
    assert [m["Subject"] for m in mailbox] == ["Your idea “Cheap watches” was hidden"]


def test_dismissing_reports_that_are_closed_answers_422(
    client, as_moderator, challenge, make_idea
):
    idea = make_idea(challenge, state="hidden")

    response = client.post(
        f"/moderation/ideas/{idea.id}/dismiss-flags", data={"reason": "Nothing."}
    )

    assert response.status_code == 422
    assert "There are no open reports to decide on." in _text(_page(response))


# --- risk flags -------------------------------------------------------------------------


def test_risk_form_marks_a_risk_shown_on_the_file(client, as_moderator, challenge, make_idea):
    idea = make_idea(challenge)

    response = client.post(
        f"/moderation/ideas/{idea.id}/risks", data={"kind": "safety", "note": "Busy road."}
    )

    assert response.status_code == 302
    [risk] = db.session.scalars(select(RiskFlag)).all()
    assert (risk.kind, risk.note, risk.set_by_id) == ("safety", "Busy road.", as_moderator.id)
    page = _page(client.get(f"/moderation/ideas/{idea.id}"))
    assert "Safety : Busy road." in _text(page)
    assert f'action="/moderation/ideas/{idea.id}/risks/safety/clear"' in page


def test_risk_without_note_answers_422(client, as_moderator, challenge, make_idea):
    idea = make_idea(challenge)

    response = client.post(
        f"/moderation/ideas/{idea.id}/risks", data={"kind": "safety", "note": ""}
    )

    assert response.status_code == 422
    assert _field_error(_page(response), "note") == "Describe the risk."
    assert db.session.scalar(select(func.count(RiskFlag.id))) == 0


def test_unknown_risk_kind_answers_422(client, as_moderator, challenge, make_idea):
    idea = make_idea(challenge)

    response = client.post(
        f"/moderation/ideas/{idea.id}/risks", data={"kind": "financial", "note": "Costly."}
    )

    assert response.status_code == 422
    assert db.session.scalar(select(func.count(RiskFlag.id))) == 0


def test_clear_risk_button_removes_it(client, as_moderator, challenge, make_idea):
    idea = make_idea(challenge)
    services.set_risk_flag(as_moderator, idea, "legal", "Copyright.")
    db.session.commit()

    response = client.post(f"/moderation/ideas/{idea.id}/risks/legal/clear")

    assert response.status_code == 302
    assert db.session.scalar(select(func.count(RiskFlag.id))) == 0
    assert "No risk is marked." in _page(client.get(f"/moderation/ideas/{idea.id}"))


def test_clearing_a_risk_that_is_not_set_answers_422(client, as_moderator, challenge, make_idea):
    idea = make_idea(challenge)

    response = client.post(f"/moderation/ideas/{idea.id}/risks/nonsense/clear")

    assert response.status_code == 422
    assert "This risk is not marked on the idea." in _text(_page(response))


def test_risks_are_not_shown_on_the_public_page(client, as_moderator, challenge, make_idea):
    idea = make_idea(challenge)
    services.set_risk_flag(as_moderator, idea, "privacy", "Names a neighbour.")
    db.session.commit()
    client.post("/account/sign-out")

    assert "Names a neighbour." not in _page(client.get(f"/ideas/{idea.id}"))


# --- comments ---------------------------------------------------------------------------


def _decide_comment(client, comment_id, action, reason="", **extra):
    response = client.post(
        f"/moderation/comments/{comment_id}/decide",
        data={"action": action, "reason": reason, **extra},
    )
    db.session.expire_all()
    return response


def test_hide_comment_from_the_file(client, as_moderator, challenge, make_idea, author, mailbox):
    idea = make_idea(challenge)
    comment = _comment(author, idea, "Rude words")

    response = _decide_comment(client, comment.id, "hide", "Rude.")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/moderation/ideas/{idea.id}"
    stored = _fresh(Comment, comment.id)
    assert (stored.moderation_state, stored.moderation_reason) == ("hidden", "Rude.")
    assert [m["Subject"] for m in mailbox] == ["Your comment was hidden"]
    assert "Decision on the comment saved." in _page(client.get(response.headers["Location"]))


def test_hide_comment_without_reason_is_refused_with_a_message(
    client, as_moderator, challenge, make_idea, make_user
):
    comment = _comment(make_user(), make_idea(challenge))

    response = _decide_comment(client, comment.id, "hide", "")

    assert response.status_code == 302
    assert _fresh(Comment, comment.id).is_hidden is False
    assert "A reason is required for this decision." in _page(
        client.get(response.headers["Location"])
    )


def test_restore_comment_from_the_file(client, as_moderator, challenge, make_idea, make_user):
    comment = _comment(make_user(), make_idea(challenge))
    _decide_comment(client, comment.id, "hide", "Rude.")

    response = _decide_comment(client, comment.id, "restore")

    assert response.status_code == 302
    assert _fresh(Comment, comment.id).is_hidden is False


@pytest.fixture
def reported_comment(challenge, author, make_idea, make_user, threshold):
    """A comment reported by three people, and so hidden pending review."""
    comment = _comment(author, make_idea(challenge, title="Benches"), "Cheap watches here")
    for _ in range(3):
        _flag(make_user(), comment, "spam")
    return comment


def test_dismiss_comment_reports_from_the_queue(client, as_moderator, reported_comment, mailbox):
    response = _decide_comment(
        client, reported_comment.id, "dismiss_flags", "Not spam.", next="/agencies/city/moderation"
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/agencies/city/moderation"
    stored = _fresh(Comment, reported_comment.id)
    assert (stored.is_hidden, stored.open_flag_count, stored.queued_at) == (False, 0, None)
    assert [m["To"] for m in mailbox] == ["author@example.org"]


def test_uphold_comment_reports_from_the_queue(client, as_moderator, reported_comment, mailbox):
    response = _decide_comment(client, reported_comment.id, "uphold_flags", "Spam.")

    assert response.status_code == 302
    stored = _fresh(Comment, reported_comment.id)
    assert (stored.moderation_state, stored.moderation_reason, stored.open_flag_count) == (
        "hidden",
        "Spam.",
        0,
    )
    assert [m["Subject"] for m in mailbox] == ["Your comment was hidden"]
    assert "Nothing is waiting." in _queue(client)


def test_comment_reports_need_a_reason(client, as_moderator, reported_comment):
    response = _decide_comment(client, reported_comment.id, "dismiss_flags", "")

    assert response.status_code == 302
    assert _fresh(Comment, reported_comment.id).open_flag_count == 3


def test_unknown_comment_decision_changes_nothing(client, as_moderator, reported_comment):
    response = _decide_comment(client, reported_comment.id, "publish", "Why not.")

    assert response.status_code == 302
    stored = _fresh(Comment, reported_comment.id)
    assert (stored.is_hidden, stored.open_flag_count) == (True, 3)
    assert "This comment cannot be changed that way now." in _page(
        client.get(response.headers["Location"])
    )


# --- bulk decisions ---------------------------------------------------------------------


def _bulk(client, ids, action, reason=""):
    return client.post(
        "/agencies/city/moderation/bulk",
        data={"idea_ids": [str(i) for i in ids], "action": action, "reason": reason},
    )


def test_bulk_publish_publishes_the_selected_ideas(
    client, as_moderator, challenge, make_idea, mailbox
):
    first, second, unselected = (make_idea(challenge, state="pending") for _ in range(3))

    response = _bulk(client, [first.id, second.id], "publish")

    assert response.status_code == 302
    assert response.headers["Location"] == "/agencies/city/moderation"
    states = {i: _fresh(Idea, i).moderation_state for i in (first.id, second.id, unselected.id)}
    assert states == {first.id: "published", second.id: "published", unselected.id: "pending"}
    assert len(mailbox) == 2
    assert "2 ideas decided." in _page(client.get("/agencies/city/moderation"))


def test_bulk_reject_gives_everyone_the_same_reason(client, as_moderator, challenge, make_idea):
    first, second = (make_idea(challenge, state="pending") for _ in range(2))

    _bulk(client, [first.id, second.id], "reject", "Out of scope.")

    for idea_id in (first.id, second.id):
        stored = _fresh(Idea, idea_id)
        assert (stored.moderation_state, stored.moderation_reason) == ("rejected", "Out of scope.")


def test_bulk_reject_without_reason_is_refused(
    client, as_moderator, challenge, make_idea, mailbox
):
    first, second = (make_idea(challenge, state="pending") for _ in range(2))

    response = _bulk(client, [first.id, second.id], "reject", "")

    assert response.status_code == 302
    assert {_fresh(Idea, i).moderation_state for i in (first.id, second.id)} == {"pending"}
    assert _records() == [] and mailbox == []
    assert "A reason is required for this decision." in _page(
        client.get(response.headers["Location"])
    )


def test_bulk_ignores_ideas_of_another_agency(
    client, as_moderator, challenge, make_idea, make_challenge
):
    own = make_idea(challenge, state="pending")
    foreign = make_idea(make_challenge("open", moderation_mode="pre"), state="pending")

    response = _bulk(client, [own.id, foreign.id], "publish")

    assert response.status_code == 302
    assert _fresh(Idea, own.id).moderation_state == "published"
    assert _fresh(Idea, foreign.id).moderation_state == "pending"
    assert "1 idea was skipped" in _page(client.get("/agencies/city/moderation"))


def test_bulk_without_selection_asks_for_one(client, as_moderator, challenge, make_idea):
    idea = make_idea(challenge, state="pending")

    response = _bulk(client, [], "publish")

    assert "Select at least one idea." in _page(client.get(response.headers["Location"]))
    assert _fresh(Idea, idea.id).moderation_state == "pending"


@pytest.mark.parametrize("action", ["hide", "", "merge"])
def test_bulk_refuses_other_decisions(client, as_moderator, challenge, make_idea, action):
    idea = make_idea(challenge, state="pending")

    response = _bulk(client, [idea.id], action, "A reason")

    assert response.status_code == 302
    assert _fresh(Idea, idea.id).moderation_state == "pending"


@pytest.mark.parametrize("value", ["abc", "-1", "99999999999", "1.5"])
def test_bulk_ignores_malformed_ids(client, as_moderator, challenge, make_idea, value):
    idea = make_idea(challenge, state="pending")

    response = client.post(
        "/agencies/city/moderation/bulk", data={"idea_ids": [value], "action": "publish"}
    )

    assert response.status_code == 302
    assert _fresh(Idea, idea.id).moderation_state == "pending"


# --- the report pages -------------------------------------------------------------------


@pytest.fixture
def reporter(make_user, auth, moderator):
    person = make_user("reporter@example.org")
    auth.login("reporter@example.org")
    return person


def test_report_page_shows_the_reasons(client, reporter, challenge, make_idea):
    idea = make_idea(challenge, title="Cheap watches")

    response = client.get(f"/ideas/{idea.id}/flag")

    assert response.status_code == 200
    page = _page(response)
    assert "Report this idea" in page
    assert set(re.findall(r'name="reason"[^>]*value="(\w+)"', page)) == {
        "spam",
        "offensive",
        "personal_data",
        "off_topic",
        "other",
    }


def test_report_is_stored_and_thanked(client, reporter, challenge, make_idea, threshold):
    idea = make_idea(challenge)

    response = client.post(f"/ideas/{idea.id}/flag", data={"reason": "offensive"})

    assert response.status_code == 302
    assert response.headers["Location"] == f"/ideas/{idea.id}"
    [flag] = db.session.scalars(select(Flag)).all()
    assert (flag.reporter_id, flag.idea_id, flag.reason) == (reporter.id, idea.id, "offensive")
    assert "A moderator will look at your report." in _page(client.get(f"/ideas/{idea.id}"))


def test_second_report_by_the_same_person_is_refused(
    client, reporter, challenge, make_idea, threshold
):
    idea = make_idea(challenge)
    client.post(f"/ideas/{idea.id}/flag", data={"reason": "spam"})

    response = client.post(f"/ideas/{idea.id}/flag", data={"reason": "offensive"})

    assert response.status_code == 422
    assert "You have already reported this." in _page(response)
    assert db.session.scalar(select(func.count(Flag.id))) == 1
    assert _fresh(Idea, idea.id).open_flag_count == 1


def test_report_without_reason_answers_422(client, reporter, challenge, make_idea):
    idea = make_idea(challenge)

    response = client.post(f"/ideas/{idea.id}/flag", data={})

    assert response.status_code == 422
    assert "Choose a reason." in _page(response)
    assert db.session.scalar(select(func.count(Flag.id))) == 0


def test_report_for_something_else_needs_details(client, reporter, challenge, make_idea):
    idea = make_idea(challenge)

    response = client.post(f"/ideas/{idea.id}/flag", data={"reason": "other", "details": ""})

    assert response.status_code == 422
    assert _field_error(_page(response), "details") == "Tell us what is wrong."
    assert db.session.scalar(select(func.count(Flag.id))) == 0


def test_report_with_an_unlisted_reason_answers_422(client, reporter, challenge, make_idea):
    idea = make_idea(challenge)

    response = client.post(f"/ideas/{idea.id}/flag", data={"reason": "boring"})

    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Flag.id))) == 0


def test_comment_report_page_reports_the_comment(
    client, reporter, challenge, make_idea, make_user, threshold
):
    idea = make_idea(challenge)
    comment = _comment(make_user(), idea, "Rude words")

    page = _page(client.get(f"/comments/{comment.id}/flag"))
    response = client.post(f"/comments/{comment.id}/flag", data={"reason": "personal_data"})

    assert "Report this comment" in page
    assert response.status_code == 302
    assert response.headers["Location"] == f"/ideas/{idea.id}"
    [flag] = db.session.scalars(select(Flag)).all()
    assert (flag.comment_id, flag.idea_id, flag.reason) == (comment.id, None, "personal_data")


def test_own_idea_cannot_be_reported(client, reporter, challenge, make_idea):
    idea = make_idea(challenge, author=reporter)

    for response in (
        client.get(f"/ideas/{idea.id}/flag"),
        client.post(f"/ideas/{idea.id}/flag", data={"reason": "spam"}),
    ):
        assert response.status_code == 403
        assert "You cannot report your own contribution." in _page(response)
    assert db.session.scalar(select(func.count(Flag.id))) == 0


def test_own_comment_cannot_be_reported(client, reporter, challenge, make_idea):
    comment = _comment(reporter, make_idea(challenge))

    response = client.post(f"/comments/{comment.id}/flag", data={"reason": "spam"})

    assert response.status_code == 403
    assert db.session.scalar(select(func.count(Flag.id))) == 0


@pytest.mark.parametrize("state", ["pending", "hidden", "rejected", "withdrawn"])
def test_idea_others_cannot_see_cannot_be_reported(client, reporter, challenge, make_idea, state):
    idea = make_idea(challenge, state=state)

    assert client.get(f"/ideas/{idea.id}/flag").status_code == 404
    assert client.post(f"/ideas/{idea.id}/flag", data={"reason": "spam"}).status_code == 404
    assert db.session.scalar(select(func.count(Flag.id))) == 0


def test_merged_idea_cannot_be_reported(client, reporter, challenge, make_idea):
    idea = make_idea(challenge, state="merged")

    response = client.post(f"/ideas/{idea.id}/flag", data={"reason": "spam"})

    assert response.status_code == 403
    assert "This content is not public." in _page(response)


def test_hidden_comment_cannot_be_reported(
    client, reporter, moderator, challenge, make_idea, make_user
):
    comment = _comment(make_user(), make_idea(challenge))
    services.moderate_comment(moderator, comment, "hide", "Rude.")
    db.session.commit()

    response = client.post(f"/comments/{comment.id}/flag", data={"reason": "spam"})

    assert response.status_code == 403
    assert db.session.scalar(select(func.count(Flag.id))) == 0


def test_unverified_person_cannot_report(client, auth, challenge, make_idea, make_user):
    make_user("new@example.org", verified=False)
    auth.login("new@example.org")
    idea = make_idea(challenge)

    response = client.post(f"/ideas/{idea.id}/flag", data={"reason": "spam"})

    assert response.status_code == 403
    assert "Confirm your e-mail address to report content." in _page(response)


def test_visitor_is_sent_to_sign_in_to_report(client, challenge, make_idea):
    idea = make_idea(challenge)

    response = client.post(f"/ideas/{idea.id}/flag", data={"reason": "spam"})

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in")
    assert db.session.scalar(select(func.count(Flag.id))) == 0


def test_unknown_content_report_answers_404(client, reporter):
    assert client.get("/ideas/999999/flag").status_code == 404
    assert client.get("/comments/999999/flag").status_code == 404


def test_third_report_hides_the_idea(client, reporter, challenge, make_idea, make_user, threshold):
    idea = make_idea(challenge)
    for _ in range(2):
        _flag(make_user(), idea)

    client.post(f"/ideas/{idea.id}/flag", data={"reason": "spam"})

    assert _fresh(Idea, idea.id).moderation_state == "hidden"


# --- what each person is shown ----------------------------------------------------------


def test_moderate_link_is_shown_to_the_agencys_staff(client, as_moderator, challenge, make_idea):
    idea = make_idea(challenge)

    page = _page(client.get(f"/ideas/{idea.id}"))

    assert "Moderate this idea" in page
    assert f'href="/moderation/ideas/{idea.id}"' in page


def test_moderate_link_is_hidden_from_citizens(client, reporter, challenge, make_idea):
    idea = make_idea(challenge)

    assert "Moderate this idea" not in _page(client.get(f"/ideas/{idea.id}"))


def test_moderate_link_is_hidden_from_staff_of_another_agency(
    client, auth, challenge, make_idea, make_user, make_agency
):
    outsider = make_user("outsider@example.org")
    make_agency(members=[(outsider, "moderator")])
    auth.login("outsider@example.org")
    idea = make_idea(challenge)

    assert "Moderate this idea" not in _page(client.get(f"/ideas/{idea.id}"))


def test_moderate_link_is_hidden_from_visitors(client, challenge, make_idea):
    idea = make_idea(challenge)

    assert "Moderate this idea" not in _page(client.get(f"/ideas/{idea.id}"))


def test_report_links_are_shown_to_signed_in_readers(
    client, reporter, challenge, make_idea, make_user
):
    idea = make_idea(challenge)
    comment = _comment(make_user(), idea)

    page = _page(client.get(f"/ideas/{idea.id}"))

    assert f'href="/ideas/{idea.id}/flag"' in page
    assert f'href="/comments/{comment.id}/flag"' in page


def test_report_links_are_hidden_from_visitors(client, challenge, make_idea, make_user):
    idea = make_idea(challenge)
    _comment(make_user(), idea)

    page = _page(client.get(f"/ideas/{idea.id}"))

    assert "/flag" not in page


def test_report_link_is_hidden_from_the_author(client, reporter, challenge, make_idea):
    idea = make_idea(challenge, author=reporter)
    _comment(reporter, idea)

    assert "/flag" not in _page(client.get(f"/ideas/{idea.id}"))


def test_report_link_is_hidden_from_unverified_people(
    client, auth, challenge, make_idea, make_user
):
    make_user("new@example.org", verified=False)
    auth.login("new@example.org")
    idea = make_idea(challenge)

    assert "Report this idea" not in _page(client.get(f"/ideas/{idea.id}"))


def test_hidden_comment_offers_no_report_link(
    client, reporter, moderator, challenge, make_idea, make_user
):
    idea = make_idea(challenge)
    comment = _comment(make_user(), idea)
    services.moderate_comment(moderator, comment, "hide", "Rude.")
    db.session.commit()

    assert f"/comments/{comment.id}/flag" not in _page(client.get(f"/ideas/{idea.id}"))


# --- what authors see -------------------------------------------------------------------


def test_author_sees_state_and_reason_on_their_profile(
    client, auth, as_moderator, challenge, author, make_idea
):
    rejected = make_idea(challenge, author=author, state="pending", title="Benches")
    changes = make_idea(challenge, author=author, state="pending", title="Fountains")
    make_idea(challenge, author=author, state="pending", title="Still waiting")
    _decide(client, rejected.id, "reject", "Already planned for next year.")
    _decide(client, changes.id, "request_changes", "Which square do you mean?")
    auth.logout()
    auth.login("author@example.org")

    page = _page(client.get("/account/"))

    items = {
        _text(item).split(" ")[0]: _text(item)
        for item in re.findall(r'<li class="my-idea">(.*?)</li>', page, re.S)
    }
    assert "Rejected" in items["Benches"]
    assert "Moderator's note: Already planned for next year." in items["Benches"]
    assert "Changes requested" in items["Fountains"]
    assert "Moderator's note: Which square do you mean?" in items["Fountains"]
    assert "Waiting for moderation" in items["Still"]
    assert "Moderator's note" not in items["Still"]


def test_author_sees_the_moderators_note_on_their_idea(
    client, auth, as_moderator, challenge, author, make_idea
):
    idea = make_idea(challenge, author=author, state="pending")
    _decide(client, idea.id, "reject", "Out of scope.")
    auth.logout()
    auth.login("author@example.org")

    page = _page(client.get(f"/ideas/{idea.id}"))

    assert "Moderator's note: Out of scope." in _text(page)
