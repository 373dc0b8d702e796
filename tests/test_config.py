"""Configuration: production refuses unsafe settings; development keeps its own secret."""

import os
import stat
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask

from engage import create_app
from engage.config import UnsafeConfiguration, check_production_safety, load_config

LONG_SECRET = "s" * 32


@pytest.fixture
def environment(monkeypatch):
    """A clean environment: none of the variables the configuration reads are set."""
    for name in (
        "ENGAGE_ENV",
        "SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "MAIL_SERVER",
        "PUBLIC_URL",
        "TRUSTED_HOSTS",
        "TRUSTED_PROXIES",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def instance(environment, tmp_path):
    """Make every Flask app created in the test use a fresh instance folder."""
    folder = tmp_path / "instance"
    environment.setattr(Flask, "auto_find_instance_path", lambda self: str(folder))
    return folder


def production(**settings) -> dict:
    return {"ENGAGE_ENV": "production", **settings}


def test_production_without_secret_key_is_refused(environment):
    environment.setenv("DATABASE_URL", "postgresql://db.example/engage")
    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY"):
        check_production_safety(production(SECRET_KEY=None))


def test_production_with_short_secret_key_is_refused(environment):
    environment.setenv("DATABASE_URL", "postgresql://db.example/engage")
    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY"):
        check_production_safety(production(SECRET_KEY="s" * 31))


def test_production_without_database_url_is_refused(environment):
    with pytest.raises(UnsafeConfiguration, match="DATABASE_URL"):
        check_production_safety(production(SECRET_KEY=LONG_SECRET))


def test_production_with_long_secret_database_mail_and_public_url_is_accepted(environment):
    environment.setenv("DATABASE_URL", "postgresql://db.example/engage")
    check_production_safety(
        production(
            SECRET_KEY=LONG_SECRET,
            MAIL_SERVER="smtp.example",
            PUBLIC_URL="https://engage.example.org",
        )
    )


def test_production_without_mail_server_is_refused(environment):
    environment.setenv("DATABASE_URL", "postgresql://db.example/engage")
    with pytest.raises(UnsafeConfiguration, match="MAIL_SERVER"):
        check_production_safety(production(SECRET_KEY=LONG_SECRET, MAIL_SERVER=""))


def test_development_without_secret_key_is_accepted(environment):
    check_production_safety({"ENGAGE_ENV": "development", "SECRET_KEY": None})


def test_create_app_refuses_production_without_secret_key(environment, instance):
    environment.setenv("ENGAGE_ENV", "production")
    environment.setenv("DATABASE_URL", "postgresql://db.example/engage")
    with pytest.raises(UnsafeConfiguration):
        create_app()
    assert not (instance / "secret_key").exists()


def test_production_marks_cookies_secure(environment, tmp_path):
    environment.setenv("ENGAGE_ENV", "production")
    config = load_config(str(tmp_path))
    assert config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]


def test_create_app_in_development_generates_secret_in_instance_folder(instance):
    app = create_app()
    secret_file = instance / "secret_key"
    assert app.config["SECRET_KEY"] == secret_file.read_text().strip()
    assert len(app.config["SECRET_KEY"]) >= 32
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600


def test_development_secret_is_kept_between_starts(instance):
    first = create_app().config["SECRET_KEY"]
    assert create_app().config["SECRET_KEY"] == first


def test_processes_starting_together_share_one_complete_secret(environment, tmp_path):
    # The CI's fresh clone starts its test workers at the same moment.
    start = threading.Barrier(8)

    def start_up(_):
        start.wait()
        return load_config(str(tmp_path))["SECRET_KEY"]

    with ThreadPoolExecutor(8) as pool:
        secrets = set(pool.map(start_up, range(8)))
    assert secrets == {(tmp_path / "secret_key").read_text().strip()}
    assert len(secrets.pop()) >= 32
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]


def test_explicit_secret_key_is_used_and_nothing_is_written(environment, instance):
    environment.setenv("SECRET_KEY", LONG_SECRET)
    assert create_app().config["SECRET_KEY"] == LONG_SECRET
    assert not (instance / "secret_key").exists()


def test_postgres_url_uses_the_psycopg_driver(environment, tmp_path):
    environment.setenv("DATABASE_URL", "postgres://user@db.example/engage")
    config = load_config(str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://user@db.example/engage"
