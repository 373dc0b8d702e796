"""Sign-in, registration and reset forms refuse floods of POSTs from one address."""

import pytest


@pytest.fixture
def limited(app):
    app.config["AUTH_RATE_LIMIT"] = "3 per minute"
    return app.test_client()


def test_fourth_sign_in_attempt_in_a_minute_gets_429_with_retry_after(limited, make_user):
    make_user("ada@example.org")
    attempt = {"email": "ada@example.org", "password": "wrong password"}
    for _ in range(3):
        assert limited.post("/account/sign-in", data=attempt).status_code != 429

    response = limited.post("/account/sign-in", data=attempt)

    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many requests" in response.get_data(as_text=True)


def test_registration_and_reset_share_the_budget_of_sign_in(limited):
    limited.post("/account/sign-in", data={"email": "a@example.org", "password": "x"})
    limited.post("/account/reset", data={"email": "a@example.org"})
    limited.post("/account/register", data={"email": "not an address"})

    assert limited.post("/account/reset", data={"email": "a@example.org"}).status_code == 429


def test_reading_the_forms_is_not_limited(limited):
    for _ in range(10):
        assert limited.get("/account/sign-in").status_code == 200


def test_a_refused_reset_request_sends_no_mail(limited, mailbox):
    for _ in range(3):
        limited.post("/account/reset", data={"email": "a@example.org"})
    sent = len(mailbox)

    assert limited.post("/account/reset", data={"email": "a@example.org"}).status_code == 429
    assert len(mailbox) == sent
