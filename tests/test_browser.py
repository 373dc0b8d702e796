"""End to end in a real browser with JavaScript off: the demo citizen takes part.

Runs headless Debian Chromium through Playwright against the app served on 127.0.0.1.
"""

import re
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from engage import demo
from engage.extensions import db

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium not installed (.ci/run installs Debian's chromium package)"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_server(app):
    app.config.update(SERVER_NAME=None, WTF_CSRF_ENABLED=True)
    with app.app_context():
        demo.load_demo_data()
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def page(live_server):
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(java_script_enabled=False, base_url=live_server)
        context.set_default_timeout(15_000)
        yield context.new_page()
        browser.close()


def test_demo_citizen_signs_in_submits_votes_and_comments_without_javascript(page):
    expect = playwright_api.expect
    page.goto("/")
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("E-mail address").fill("citizen@example.org")
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("You are signed in.")).to_be_visible()

    page.get_by_role("link", name="A greener, cooler city").first.click()
    page.get_by_role("link", name="Submit an idea").click()
    page.get_by_label("Title").fill("Drinking fountains in every park")
    page.get_by_label("Description").fill("Free water for runners and *families*.")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".preview em")).to_have_text("families")
    page.get_by_role("button", name="Submit idea").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Drinking fountains in every park")
    expect(page.get_by_text("Your idea is published")).to_be_visible()

    page.get_by_role("button", name="Vote").click()
    expect(page.get_by_text("Your vote is counted.")).to_be_visible()
    expect(page.locator(".vote-count")).to_contain_text("1")
    expect(page.get_by_role("button", name="Withdraw my vote")).to_be_visible()

    page.get_by_label("Your comment").fill("I would use these every morning.")
    page.get_by_role("button", name="Post comment").click()
    expect(page.get_by_text("Your comment is posted.")).to_be_visible()
    expect(page.locator(".comment")).to_contain_text("I would use these every morning.")


def test_keyboard_user_reaches_main_content_through_the_skip_link(page):
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert "Skip to main content" in focused
    page.keyboard.press("Enter")
    # Following the link is asynchronous: wait for the URL rather than read it once.
    playwright_api.expect(page).to_have_url(re.compile(r"#main$"))


def tab_to(page, name: str, presses: int = 300) -> None:
    """Press Tab until the focused element's text (or label) contains `name`."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement; const l = e.labels && e.labels[0];"
            " return [e.textContent, e.value, l && l.textContent].join(' ')"
            ".replace(/\\s+/g, ' '); }"
        )
        if name in focused:
            return
    raise AssertionError(f"no focusable element named {name!r}")


def follow(page) -> None:
    """Press Enter on the focused link or button and wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def sign_in_with_keyboard(page, email: str) -> None:
    page.goto("/account/sign-in")
    tab_to(page, "E-mail address")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(demo.DEMO_PASSWORD)
    follow(page)
    playwright_api.expect(page.get_by_text("You are signed in.")).to_be_visible()


def test_demo_moderator_clears_the_queue_and_merges_with_the_keyboard_alone(page):
    expect = playwright_api.expect
    sign_in_with_keyboard(page, "moderator@example.org")
    tab_to(page, "Moderation")
    follow(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Moderation queue")

    for _waiting_idea in range(2):
        tab_to(page, "Publish #")
        follow(page)
        expect(page.get_by_text("Decision saved: Published.")).to_be_visible()

    tab_to(page, "Keep hidden")  # the comment hidden by three spam reports
    page.keyboard.press("Shift+Tab")  # back to its reason box
    page.keyboard.type("Advertising.")
    page.keyboard.press("Tab")
    follow(page)
    expect(page.get_by_text("Decision on the comment saved.")).to_be_visible()

    tab_to(page, "Open #1")  # the idea reported as off-topic
    follow(page)
    tab_to(page, "Reason for your decision on the reports")
    page.keyboard.type("Parks are part of a cooler city.")
    tab_to(page, "Dismiss the reports")
    follow(page)
    expect(page.get_by_text("Nothing is waiting. Well done!")).to_be_visible()

    page.goto("/challenges/greener-city")
    tab_to(page, "More fruit trees in our parks")
    follow(page)
    tab_to(page, "Moderate this idea")
    follow(page)
    tab_to(page, "Number of the idea to merge into")
    page.keyboard.type("1")
    tab_to(page, "Merge")
    follow(page)
    expect(page.get_by_text("The ideas are merged.")).to_be_visible()


def sign_in(page, email: str) -> None:
    page.goto("/account/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    playwright_api.expect(page.get_by_text("You are signed in.")).to_be_visible()


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()


def test_agency_admin_runs_a_challenge_and_the_citizen_sees_the_answer(page):
    expect = playwright_api.expect
    sign_in(page, "agency@example.org")
    page.get_by_role("link", name="Workspace").click()
    page.get_by_role("link", name="New challenge").click()
    page.get_by_label("Title").fill("Safer streets to school")
    page.get_by_label("Summary").fill("How can children walk and cycle to school safely?")
    page.get_by_label("Opens for ideas").fill("2026-01-01T09:00")
    page.get_by_label("Ideas close (voting continues)").fill("2036-01-01T09:00")
    page.get_by_label("Voting closes").fill("2036-02-01T09:00")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The challenge is saved.")).to_be_visible()
    row = page.get_by_role("row", name="Safer streets to school")
    row.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("The challenge is published.")).to_be_visible()
    sign_out(page)

    sign_in(page, "citizen@example.org")
    page.goto("/challenges/safer-streets-to-school")
    page.get_by_role("link", name="Submit an idea").click()
    page.get_by_label("Title").fill("A walking bus every morning")
    page.get_by_label("Description").fill("Parents take turns to walk a group to school.")
    page.get_by_role("button", name="Submit idea").click()
    idea_url = page.url
    sign_out(page)

    sign_in(page, "agency@example.org")
    page.goto("/agencies/city-of-example/challenges/safer-streets-to-school/ideas")
    page.get_by_role("link", name="A walking bus every morning").click()
    page.get_by_label("Accept").check()
    page.get_by_label("Public response").fill("We will start it in two schools in spring.")
    page.get_by_role("button", name="Publish the decision").click()
    expect(page.get_by_text("The decision is published on the idea's page.")).to_be_visible()
    sign_out(page)

    sign_in(page, "citizen@example.org")
    page.goto(idea_url)
    expect(page.locator(".outcome")).to_contain_text("Accepted")
    expect(page.locator(".outcome")).to_contain_text("We will start it in two schools in spring.")
    expect(page.locator(".outcome")).to_contain_text("Backlog")
