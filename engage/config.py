"""Configuration from environment variables, with safe development defaults.

Production (ENGAGE_ENV=production) refuses to start without an explicit SECRET_KEY,
a database URL, a mail server and an https PUBLIC_URL, and marks cookies secure.
"""

import math
import os
import secrets
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import make_url

LANGUAGES = {"en": "English", "fr": "Français", "es": "Español"}
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class UnsafeConfiguration(RuntimeError):
    """Raised at start-up when production settings are unsafe."""


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def _database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return "sqlite:///" + os.path.join(instance_path, "engage.sqlite")
    # Hosting platforms hand out postgres:// URLs; we ship the psycopg 3 driver.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _development_secret(instance_path: str) -> str:
    """Return a random secret kept in the instance folder, created on first use.

    Several processes may start at once (test workers, gunicorn): the secret is written
    to a private temporary file and linked into place, so the first link wins and no
    process ever reads a half-written file."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(handle.name, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(handle.name)
    return path.read_text().strip()


def load_config(instance_path: str) -> dict:
    """Build the configuration mapping from the environment."""
    env = os.environ.get("ENGAGE_ENV", "development")
    production = env == "production"
    config = {
        "ENGAGE_ENV": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        # The __Host- prefix makes browsers refuse these cookies unless they are Secure,
        # for Path=/ and without a Domain: no subdomain can set or shadow them.
        "SESSION_COOKIE_NAME": "__Host-session" if production else "session",
        "REMEMBER_COOKIE_NAME": "__Host-remember_token" if production else "remember_token",
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "translations"),
        "LANGUAGES": LANGUAGES,
        "SITE_NAME": os.environ.get("SITE_NAME", "Engage"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _env_bool("MAIL_USE_TLS"),
        "MAIL_USE_SSL": _env_bool("MAIL_USE_SSL"),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "engage@localhost"),
        "MAIL_TIMEOUT": 10,
        # Send a request's e-mails as soon as it commits (else only `flask worker` does).
        "MAIL_SEND_AFTER_COMMIT": _env_bool("MAIL_SEND_AFTER_COMMIT", not production),
        "VERIFY_TOKEN_MAX_AGE": 3 * 24 * 3600,
        "RESET_TOKEN_MAX_AGE": 3600,
        "IDEAS_PER_PAGE": 20,
        # Werkzeug's current default; tests use a cheaper method to stay fast.
        "PASSWORD_HASH_METHOD": "scrypt",
        # Export API: requests a token may make, and how old a change must be before the
        # feed shows it, so that transactions still committing are never skipped.
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT", "600 per minute"),
        "API_SETTLE_SECONDS": float(os.environ.get("API_SETTLE_SECONDS", "2")),
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis down: count in this process instead, and never fail a request for it.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        # POSTs to sign-in, registration and password reset from one address.
        "AUTH_RATE_LIMIT": os.environ.get("AUTH_RATE_LIMIT", "20 per minute"),
        # Webhooks to http:// or private addresses: only for development and tests.
        "WEBHOOK_ALLOW_LOCAL": _env_bool("WEBHOOK_ALLOW_LOCAL"),
        # Seconds one webhook request may take in all (connecting, sending, the answer).
        "WEBHOOK_TIMEOUT": float(os.environ.get("WEBHOOK_TIMEOUT", "5")),
        # Distinct people reporting an item before it is hidden pending review.
        "FLAG_HIDE_THRESHOLD": int(os.environ.get("FLAG_HIDE_THRESHOLD", "3")),
        # Where people reach the site: every absolute URL (e-mails, webhooks, the API) is
        # built from it, never from a request's Host header.
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", "" if production else "http://127.0.0.1:5000"),
        # Host names accepted besides PUBLIC_URL's (comma-separated); in development any.
        "EXTRA_TRUSTED_HOSTS": _env_list("TRUSTED_HOSTS"),
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are believed.
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        # Seconds before giving up on the database: connecting, one statement, a free
        # connection from the pool. Redis (cache, rate limits) gets REDIS_TIMEOUT.
        "DATABASE_CONNECT_TIMEOUT": float(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5")),
        "DATABASE_STATEMENT_TIMEOUT": float(os.environ.get("DATABASE_STATEMENT_TIMEOUT", "15")),
        "DATABASE_POOL_TIMEOUT": float(os.environ.get("DATABASE_POOL_TIMEOUT", "5")),
        "REDIS_TIMEOUT": float(os.environ.get("REDIS_TIMEOUT", "1")),
        # Sessions: a browser session ends after this long without a request, and at the
        # latest SESSION_MAX_HOURS after sign-in; "remember me" lasts at most
        # REMEMBER_DAYS, and ends sooner after REMEMBER_IDLE_DAYS unused.
        "SESSION_IDLE_MINUTES": int(os.environ.get("SESSION_IDLE_MINUTES", "120")),
        "SESSION_MAX_HOURS": int(os.environ.get("SESSION_MAX_HOURS", "12")),
        "REMEMBER_DAYS": int(os.environ.get("REMEMBER_DAYS", "30")),
        "REMEMBER_IDLE_DAYS": int(os.environ.get("REMEMBER_IDLE_DAYS", "7")),
        # Tokens, webhooks and team roles need a password typed within this many minutes.
        "FRESH_SIGN_IN_MINUTES": int(os.environ.get("FRESH_SIGN_IN_MINUTES", "30")),
        # Per account (or per address typed at sign-in), whatever the client's address.
        "SIGN_IN_FAILURE_LIMIT": os.environ.get(
            "SIGN_IN_FAILURE_LIMIT", "5 per 15 minutes; 20 per day"
        ),
        "RESET_EMAIL_LIMIT": os.environ.get("RESET_EMAIL_LIMIT", "3 per hour; 10 per day"),
        "IDEA_QUOTA": os.environ.get("IDEA_QUOTA", "5 per hour; 20 per day"),
        "COMMENT_QUOTA": os.environ.get("COMMENT_QUOTA", "5 per minute; 60 per hour"),
        "VOTE_QUOTA": os.environ.get("VOTE_QUOTA", "60 per minute; 1000 per day"),
        "REPORT_QUOTA": os.environ.get("REPORT_QUOTA", "10 per hour; 50 per day"),
        # Public pages seen by visitors who are not signed in are served from a cache
        # for this long; Redis shares it between processes when REDIS_URL is set.
        "CACHE_TYPE": "RedisCache" if os.environ.get("REDIS_URL") else "SimpleCache",
        "CACHE_REDIS_URL": os.environ.get("REDIS_URL", ""),
        "CACHE_KEY_PREFIX": "engage:",
        "CACHE_DEFAULT_TIMEOUT": int(os.environ.get("PUBLIC_PAGE_CACHE_SECONDS", "10")),
    }
    if not production and not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _development_secret(instance_path)
    return config


def derive_settings(config) -> None:
    """Fill in what follows from other settings, once every override is applied: the
    trusted host names, the database's timeouts and Redis's socket timeouts."""
    if config.get("TRUSTED_HOSTS") is None:
        config["TRUSTED_HOSTS"] = _trusted_hosts(config)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **_database_timeouts(config),
        **config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
    }
    redis_timeouts = {
        "socket_timeout": config["REDIS_TIMEOUT"],
        "socket_connect_timeout": config["REDIS_TIMEOUT"],
    }
    if config["RATELIMIT_STORAGE_URI"].startswith("redis"):
        config.setdefault("RATELIMIT_STORAGE_OPTIONS", redis_timeouts)
    if config.get("CACHE_TYPE") == "RedisCache":
        config.setdefault("CACHE_OPTIONS", redis_timeouts)


def _trusted_hosts(config) -> list[str] | None:
    """Production answers only to PUBLIC_URL's host and the extra ones; development to
    any host unless extra ones are set."""
    extra = list(config.get("EXTRA_TRUSTED_HOSTS") or [])
    if config.get("ENGAGE_ENV") != "production":
        return extra or None
    return [urlsplit(config["PUBLIC_URL"]).hostname or "", *extra]


def _database_timeouts(config) -> dict:
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    statement = config["DATABASE_STATEMENT_TIMEOUT"]
    if url.get_backend_name() == "postgresql":
        connect_args = {
            # libpq counts whole seconds (and at least 2).
            "connect_timeout": math.ceil(config["DATABASE_CONNECT_TIMEOUT"]),
            "options": f"-c statement_timeout={round(statement * 1000)}",
        }
        return {"connect_args": connect_args, "pool_timeout": config["DATABASE_POOL_TIMEOUT"]}
    if url.get_backend_name() == "sqlite":
        # How long a statement waits for another connection's write lock.
        options = {"connect_args": {"timeout": statement}}
        if url.database not in (None, "", ":memory:"):  # in memory: one shared connection
            options["pool_timeout"] = config["DATABASE_POOL_TIMEOUT"]
        return options
    return {}


def check_production_safety(config) -> None:
    """Refuse settings that must never reach production."""
    if config.get("ENGAGE_ENV") != "production":
        return
    secret = config.get("SECRET_KEY") or ""
    if len(secret) < 32:
        raise UnsafeConfiguration(
            "ENGAGE_ENV=production needs SECRET_KEY set to a random value of 32+ characters."
        )
    if not os.environ.get("DATABASE_URL") and not config.get("TESTING"):
        raise UnsafeConfiguration("ENGAGE_ENV=production needs DATABASE_URL.")
    if not config.get("MAIL_SERVER"):
        # Without it, e-mails (and the sign-in links they carry) would go to the log.
        raise UnsafeConfiguration("ENGAGE_ENV=production needs MAIL_SERVER.")
    public = urlsplit(config.get("PUBLIC_URL") or "")
    if public.scheme != "https" or not public.hostname:
        # Links in e-mails, the API and webhooks are built from it, never from the request.
        raise UnsafeConfiguration(
            "ENGAGE_ENV=production needs PUBLIC_URL, the https address people reach the "
            "site at (like https://engage.example.org)."
        )
