"""Static WCAG checks of rendered pages: landmarks, headings, labels and tied errors."""

from html.parser import HTMLParser

import pytest

VOID_TAGS = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
UNLABELLED_INPUT_TYPES = {"hidden", "submit", "button", "reset", "image"}


class Element:
    def __init__(self, tag, attrs, parent):
        self.tag = tag
        self.attrs = {name: value if value is not None else "" for name, value in attrs}
        self.parent = parent
        self.children = []
        self.text_parts = []

    @property
    def text(self) -> str:
        return " ".join("".join(self.text_parts).split())

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def __repr__(self):
        return f"<{self.tag} {self.attrs}>"


class Page(HTMLParser):
    """A rendered page as a small tree, enough to ask accessibility questions."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", [], None)
        self.elements = []
        self._open = [self.root]
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        element = Element(tag, attrs, self._open[-1])
        self._open[-1].children.append(element)
        self.elements.append(element)
        if tag not in VOID_TAGS:
            self._open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS:
            self._open.pop()

    def handle_endtag(self, tag):
        for index in range(len(self._open) - 1, 0, -1):
            if self._open[index].tag == tag:
                del self._open[index:]
                return

    def handle_data(self, data):
        for element in self._open:
            element.text_parts.append(data)

    def find_all(self, *tags):
        return [element for element in self.elements if element.tag in tags]

    def by_id(self, ident):
        return [element for element in self.elements if element.attrs.get("id") == ident]

    def form_controls(self):
        return [
            element
            for element in self.find_all("input", "select", "textarea")
            if element.attrs.get("type", "text").lower() not in UNLABELLED_INPUT_TYPES
        ]


# The pages ---------------------------------------------------------------------------------


SIGNED_IN_PAGES = {"idea-signed-in", "submit-with-errors", "comment-with-errors", "profile"}
# Seen by someone who is both the agency's admin and a site admin.
STAFF_PAGES = {
    "moderation-queue": "/agencies/city/moderation",
    "moderation-idea": "/moderation/ideas/{idea}",
    "workspace": "/agencies/city/workspace",
    "challenge-form": "/agencies/city/challenges/new",
    "ranking": "/agencies/city/challenges/trees/ideas",
    "decision": "/agencies/city/ideas/{idea}/decision",
    "team": "/agencies/city/team",
    "integrations": "/agencies/city/integrations",
    "site-admin": "/admin/",
    "site-admin-users": "/admin/users?q=staff",
}


@pytest.fixture
def pages(client, auth, make_user, make_agency, make_challenge, make_idea):
    """Fetch a page under test by name, signed in as a citizen where it needs one.

    Fails unless the page answers with its expected status, so that no check below
    passes by looking at an error page instead.
    """
    staff = make_user("staff@example.org", is_admin=True)
    agency = make_agency("city", members=[(staff, "admin")])
    challenge = make_challenge(
        "open",
        slug="trees",
        title="More trees",
        tags=["nature"],
        body="# A heading in the body\n\nMore *shade*.",
        agency=agency,
    )
    idea = make_idea(challenge, title="Plant trees", body="## Also a heading\n\nText.")
    make_challenge("closed", slug="old")

    def fetch(name: str) -> Page:
        if name in SIGNED_IN_PAGES:
            make_user("citizen@example.org")
            auth.login("citizen@example.org")
        if name in STAFF_PAGES or name == "challenge-form-with-errors":
            auth.login("staff@example.org")
        responses = {
            "home": lambda: client.get("/"),
            "challenge-list": lambda: client.get("/challenges"),
            "challenge": lambda: client.get("/challenges/trees"),
            "challenge-filtered": lambda: client.get("/challenges/trees?outcome=awaiting"),
            "idea": lambda: client.get(f"/ideas/{idea.id}"),
            "idea-signed-in": lambda: client.get(f"/ideas/{idea.id}"),
            "register": lambda: client.get("/account/register"),
            "sign-in": lambda: client.get("/account/sign-in"),
            "register-with-errors": lambda: client.post(
                "/account/register", data={"account_type": "nobody", "email": "not-an-address"}
            ),
            "sign-in-with-errors": lambda: client.post("/account/sign-in", data={}),
            "submit-with-errors": lambda: client.post(
                "/challenges/trees/ideas/new", data={"location": "x" * 201}
            ),
            "comment-with-errors": lambda: client.post(
                f"/ideas/{idea.id}/comments", data={"body": ""}
            ),
            "profile": lambda: client.get("/account/"),
            "search": lambda: client.get("/search?q=trees"),
            "search-in-challenge": lambda: client.get("/search?q=trees&challenge=trees"),
            "not-found": lambda: client.get("/challenges/nope"),
            "challenge-form-with-errors": lambda: client.post(
                "/agencies/city/challenges/new", data={"vote_limit": "0"}
            ),
            **{
                page: (lambda path=path: client.get(path.format(idea=idea.id)))
                for page, path in STAFF_PAGES.items()
            },
        }
        response = responses[name]()
        expected = 404 if name == "not-found" else 422 if name in PAGES_WITH_ERRORS else 200
        assert response.status_code == expected, name
        return Page(response.get_data(as_text=True))

    return fetch


PAGES = [
    "home",
    "challenge-list",
    "challenge",
    "challenge-filtered",
    "idea",
    "idea-signed-in",
    "register",
    "sign-in",
    "register-with-errors",
    "sign-in-with-errors",
    "submit-with-errors",
    "comment-with-errors",
    "profile",
    "search",
    "search-in-challenge",
    "not-found",
    "challenge-form-with-errors",
    *STAFF_PAGES,
]
PAGES_WITH_ERRORS = {
    "register-with-errors": {
        "account_type",
        "display_name",
        "email",
        "password",
        "password_confirm",
    },
    "sign-in-with-errors": {"email", "password"},
    "submit-with-errors": {"title", "body", "location"},
    "comment-with-errors": {"body"},
    "challenge-form-with-errors": {
        "title",
        "summary",
        "opens_at",
        "submissions_close_at",
        "voting_closes_at",
        "vote_limit",
    },
}


# What every page must be. Each check returns what it found wrong (empty when the page
# passes); one test per page runs them all, so a page is fetched once, not once a check.


def one_h1(page: Page) -> list:
    h1s = page.find_all("h1")
    return [] if len(h1s) == 1 else [f"{len(h1s)} h1 elements"]


def declares_its_language(page: Page) -> list:
    (html,) = page.find_all("html")
    return [] if html.attrs.get("lang") == "en" else [html]


def starts_with_a_skip_link_to_main(page: Page) -> list:
    first_link = page.find_all("a")[0]
    return [] if first_link.attrs.get("href") == "#main" and first_link.text else [first_link]


def one_main_landmark_with_the_skip_target(page: Page) -> list:
    mains = page.find_all("main")
    if len(mains) == 1 and mains[0].attrs.get("id") == "main" and page.by_id("main") == mains:
        return []
    return mains or ["no main"]


def every_form_control_has_a_label(page: Page) -> list:
    labelled = {label.attrs.get("for") for label in page.find_all("label") if label.text}
    unlabelled = []
    for control in page.form_controls():
        in_fieldset_with_legend = any(
            ancestor.tag == "fieldset"
            and any(child.tag == "legend" and child.text for child in ancestor.children)
            for ancestor in control.ancestors()
        )
        if control.attrs.get("id") not in labelled and not in_fieldset_with_legend:
            unlabelled.append(control)
    return unlabelled


def ids_are_unique(page: Page) -> list:
    ids = [element.attrs["id"] for element in page.elements if "id" in element.attrs]
    return sorted({ident for ident in ids if ids.count(ident) > 1})


def no_positive_tabindex(page: Page) -> list:
    return [
        element
        for element in page.elements
        if "tabindex" in element.attrs and int(element.attrs["tabindex"]) > 0
    ]


def every_link_and_button_has_text(page: Page) -> list:
    return [
        element
        for element in page.find_all("a", "button")
        if not element.text and not element.attrs.get("aria-label")
    ]


def aria_references_point_at_existing_elements(page: Page) -> list:
    return [
        (element, ident)
        for element in page.elements
        for attribute in ("aria-describedby", "aria-labelledby", "for")
        for ident in element.attrs.get(attribute, "").split()
        if not page.by_id(ident)
    ]


def navigation_landmarks_are_named(page: Page) -> list:
    navs = page.find_all("nav")
    return [nav for nav in navs if not nav.attrs.get("aria-label")] if navs else ["no nav"]


PAGE_CHECKS = [
    one_h1,
    declares_its_language,
    starts_with_a_skip_link_to_main,
    one_main_landmark_with_the_skip_target,
    every_form_control_has_a_label,
    ids_are_unique,
    no_positive_tabindex,
    every_link_and_button_has_text,
    aria_references_point_at_existing_elements,
    navigation_landmarks_are_named,
]


@pytest.mark.parametrize("name", PAGES)
def test_page_passes_every_structure_check(pages, name):
    page = pages(name)

    failures = {check.__name__: found for check in PAGE_CHECKS if (found := check(page))}
    assert failures == {}


@pytest.mark.parametrize("check", PAGE_CHECKS, ids=lambda check: check.__name__)
def test_each_structure_check_catches_a_broken_page(check):
    # A check that passes everything would make the test above pass for nothing.
    broken = Page(
        '<html><body><h1>One</h1><h1>Two</h1><a href="/x"></a><main id="x"></main>'
        '<span id="a"></span><span id="a"></span><input id="q" type="text">'
        '<button tabindex="3"></button><p aria-describedby="nowhere"></p></body></html>'
    )
    assert check(broken)


@pytest.mark.parametrize(
    ("name", "heading"), [("challenge", "More trees"), ("idea", "Plant trees")]
)
def test_headings_in_user_markdown_do_not_add_a_second_h1(pages, name, heading):
    assert [h1.text for h1 in pages(name).find_all("h1")] == [heading]


# Errors tied to their fields ---------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PAGES_WITH_ERRORS))
def test_invalid_fields_are_marked_aria_invalid(pages, name):
    page = pages(name)

    invalid = {
        element.attrs.get("name")
        for element in page.elements
        if element.attrs.get("aria-invalid") == "true"
    }
    expected = PAGES_WITH_ERRORS[name]
    # A radio group carries its error on the fieldset instead of each radio.
    assert invalid == expected - {"account_type"}


@pytest.mark.parametrize("name", sorted(PAGES_WITH_ERRORS))
def test_each_invalid_field_is_described_by_its_error_text(pages, name):
    page = pages(name)

    for control in page.elements:
        if control.attrs.get("aria-invalid") != "true":
            continue
        described = [page.by_id(ident)[0] for ident in control.attrs["aria-describedby"].split()]
        errors = [
            element
            for element in described
            if "field-error" in element.attrs.get("class", "").split()
        ]
        assert len(errors) == 1, control
        assert errors[0].text, control


@pytest.mark.parametrize("name", sorted(PAGES_WITH_ERRORS))
def test_only_invalid_fields_are_marked_invalid(pages, name):
    page = pages(name)

    for control in page.form_controls():
        describedby = control.attrs.get("aria-describedby", "").split()
        has_error = any(ident.endswith("-error") for ident in describedby)
        assert has_error == (control.attrs.get("aria-invalid") == "true"), control


def test_radio_group_error_is_tied_to_its_fieldset(pages):
    page = pages("register-with-errors")

    radios = [
        control for control in page.form_controls() if control.attrs.get("name") == "account_type"
    ]
    fieldsets = {next(a for a in radio.ancestors() if a.tag == "fieldset") for radio in radios}
    (fieldset,) = fieldsets
    (error,) = page.by_id(fieldset.attrs["aria-describedby"])
    assert "Not a valid choice" in error.text


@pytest.mark.parametrize("name", sorted(PAGES_WITH_ERRORS))
def test_error_summary_links_to_each_invalid_field(pages, name):
    page = pages(name)

    (summary,) = [
        element
        for element in page.elements
        if "error-summary" in element.attrs.get("class", "").split()
    ]
    assert summary.attrs.get("role") == "alert"
    targets = {
        a.attrs["href"].removeprefix("#") for a in page.find_all("a") if summary in a.ancestors()
    }
    for ident in targets:
        assert page.by_id(ident), ident
    named = {page.by_id(ident)[0].attrs.get("name") for ident in targets}
    assert named >= PAGES_WITH_ERRORS[name] - {"account_type"}


def test_required_fields_say_so_to_assistive_technology(pages):
    page = pages("register")

    (email,) = [
        control for control in page.form_controls() if control.attrs.get("name") == "email"
    ]
    assert "required" in email.attrs
