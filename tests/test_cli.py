"""`flask --app engage …` commands: create-admin and demo."""

from sqlalchemy import func, select

from engage import demo
from engage.agencies.models import Agency
from engage.auth.models import User
from engage.extensions import db
from engage.ideas.models import Comment, Idea, Vote

ADMIN_PASSWORD = "a long admin passphrase"


def create_admin(runner, email, password=ADMIN_PASSWORD):
    return runner.invoke(args=["create-admin", email], input=f"{password}\n{password}\n")


def stored_user(app, email):
    with app.app_context():
        return db.session.scalar(select(User).where(User.email == email))


def counts(app) -> dict:
    with app.app_context():
        return {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (User, Agency, Idea, Vote, Comment)
        }


def test_create_admin_creates_verified_site_admin(app, runner):
    result = create_admin(runner, "Boss@Example.org")
    assert result.exit_code == 0, result.output
    user = stored_user(app, "boss@example.org")
    assert f"Created site admin #{user.id}." in result.output
    assert user.is_admin
    assert user.is_verified
    assert user.check_password(ADMIN_PASSWORD)


def test_create_admin_promotes_existing_account(app, runner):
    with app.app_context():
        user = User(email="member@example.org", display_name="Member")
        user.set_password("the member's own password")
        db.session.add(user)
        db.session.commit()
    result = create_admin(runner, "member@example.org")
    assert result.exit_code == 0, result.output
    assert "Promoted site admin" in result.output
    promoted = stored_user(app, "member@example.org")
    assert promoted.is_admin
    assert promoted.check_password("the member's own password")
    assert counts(app)["User"] == 1


def test_create_admin_refuses_short_password(app, runner):
    result = create_admin(runner, "boss@example.org", password="too short")
    assert result.exit_code != 0
    assert "The password needs 10 to 200 characters." in result.output
    assert stored_user(app, "boss@example.org") is None


def test_create_admin_refuses_invalid_address(app, runner):
    result = create_admin(runner, "not an address")
    assert result.exit_code != 0
    assert "Enter a valid e-mail address." in result.output
    assert counts(app)["User"] == 0


def test_demo_loads_demo_data(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "Demo data loaded." in result.output
    with app.app_context():
        assert db.session.scalar(select(Agency).where(Agency.slug == demo.DEMO_AGENCY_SLUG))
        for email, _description in demo.DEMO_ACCOUNTS:
            assert email in result.output
            assert db.session.scalar(select(User).where(User.email == email)).is_verified
    loaded = counts(app)
    assert loaded["Idea"] > 0 and loaded["Vote"] > 0 and loaded["Comment"] > 0
    assert stored_user(app, "admin@example.org").is_admin


def test_demo_second_run_says_already_there_and_changes_nothing(app, runner):
    runner.invoke(args=["demo"])
    loaded = counts(app)
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "Demo data was already there." in result.output
    assert counts(app) == loaded


def test_demo_is_refused_in_production(app, runner):
    app.config["ENGAGE_ENV"] = "production"
    result = runner.invoke(args=["demo"])
    assert result.exit_code != 0
    assert "Demo data is never loaded in production." in result.output
    assert counts(app) == {"User": 0, "Agency": 0, "Idea": 0, "Vote": 0, "Comment": 0}
