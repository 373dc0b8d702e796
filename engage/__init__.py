"""Engage: citizen and stakeholder engagement for public-sector innovation."""

import logging
import os
from datetime import timedelta

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import format_datetime, format_timedelta, get_locale, get_timezone
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.middleware.proxy_fix import ProxyFix

import engage.models  # noqa: F401  (registers every model on the metadata)
from engage import extensions
from engage.agencies.models import Agency
from engage.agencies.permissions import agency_roles
from engage.api.views import bp as api_bp
from engage.auth import sessions
from engage.challenges.states import PHASE_RULES
from engage.cli import register_commands
from engage.config import check_production_safety, derive_settings, load_config
from engage.db import include_in_autogenerate, now_utc, render_migration_item
from engage.errors import register_error_handlers
from engage.http import external_url, refuse_broken_text
from engage.ideas import permissions as idea_permissions
from engage.ideas.states import STAGE_LABELS
from engage.moderation import permissions as moderation_permissions
from engage.web.admin import bp as site_admin_bp
from engage.web.auth import bp as auth_bp
from engage.web.challenges import bp as challenges_bp
from engage.web.ideas import bp as ideas_bp
from engage.web.moderation import bp as moderation_bp
from engage.web.search import bp as search_bp
from engage.web.workspace import bp as workspace_bp


def create_app(config_overrides: dict | None = None) -> Flask:
    """Build the Flask application: configuration, extensions, blueprints, commands."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(load_config(app.instance_path))
    if config_overrides:
        app.config.update(config_overrides)
    derive_settings(app.config)
    check_production_safety(app.config)
    logging.basicConfig(level=logging.INFO)
    if app.config["TRUSTED_PROXIES"] > 0:
        # Believe that many proxies' X-Forwarded-For/-Proto: rate limits then count the
        # client's address, and the scheme is the one the client used.
        count = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)

    _init_extensions(app)
    _register_blueprints(app)
    _register_request_guards(app)
    _register_template_helpers(app)

    register_error_handlers(app)
    register_commands(app)
    return app


def _select_locale() -> str | None:
    if not has_request_context():
        return None
    languages = current_app.config["LANGUAGES"]
    if session.get("locale") in languages:  # chosen with the language links
        return session["locale"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return request.accept_languages.best_match(list(languages))


def _select_timezone() -> str | None:
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.timezone
    return None


def _init_extensions(app: Flask) -> None:
    # `engage.db` is a submodule, so the extension is always reached through `extensions`.
    db = extensions.db
    db.init_app(app)
    migrations = os.path.join(os.path.dirname(app.root_path), "migrations")
    extensions.migrate.init_app(
        app,
        db,
        directory=migrations,
        render_as_batch=True,
        compare_type=True,
        render_item=render_migration_item,
        include_name=include_in_autogenerate,
    )
    extensions.csrf.init_app(app)
    extensions.cache.init_app(app)
    extensions.limiter.init_app(app)
    extensions.babel.init_app(
        app, locale_selector=_select_locale, timezone_selector=_select_timezone
    )
    _init_login(app)


def _init_login(app: Flask) -> None:
    """Sign-in state: server-side sessions (engage.auth.sessions) behind Flask-Login."""
    login_manager = extensions.login_manager
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.refresh_view = "auth.confirm"  # its handler: engage.auth.guards
    login_manager.user_loader(sessions.load_user)
    # The browser drops the remember-me cookie when the server-side session expires.
    app.config.setdefault("REMEMBER_COOKIE_DURATION", timedelta(days=app.config["REMEMBER_DAYS"]))

    @app.before_request
    def load_signed_in_person():
        # First, while the request's transaction is still empty, so that the loader may
        # record the session's use (engage.auth.sessions.load_user).
        if request.endpoint != "static":
            current_user._get_current_object()


def _register_blueprints(app: Flask) -> None:
    app.register_blueprint(challenges_bp)
    app.register_blueprint(ideas_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(moderation_bp)
    app.register_blueprint(workspace_bp)
    app.register_blueprint(site_admin_bp)
    app.register_blueprint(api_bp)


def _register_request_guards(app: Flask) -> None:
    # First of all: it reads the raw body, which parsing the form (CSRF does) consumes.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_broken_text)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        )
        if app.config["ENGAGE_ENV"] == "production":
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=63072000; includeSubDomains"
            )
        if _is_private(app):
            response.headers["Cache-Control"] = "no-store"
        return response


def _is_private(app: Flask) -> bool:
    """API answers and whatever a signed-in person is shown must stay out of every cache,
    the browser's history included; static files do not count.

    Read from the session and cookies, never the database, so that it holds for the
    pages that say the database is unavailable too.
    """
    if request.endpoint == "static":
        return False
    if request.path.startswith("/api/"):
        return True
    return "_user_id" in session or app.config["REMEMBER_COOKIE_NAME"] in request.cookies


def _staff_agency_slug(user) -> str | None:
    """The agency whose workspace the header links to: the person's first one."""
    roles = agency_roles(user)
    if not roles:
        return None
    return extensions.db.session.scalar(select(Agency.slug).where(Agency.id == min(roles)))


def _register_template_helpers(app: Flask) -> None:
    # The one way user HTML reaches a page: what text.render_markdown stored on write.
    app.jinja_env.filters["sanitized"] = lambda stored: Markup(stored or "")
    # Absolute links (e-mails) come from PUBLIC_URL, never from the request's Host.
    app.jinja_env.globals["external_url"] = external_url
    app.jinja_env.filters["datetime"] = lambda value, fmt="medium": (
        format_datetime(value, fmt) if value else ""
    )
    app.jinja_env.filters["timedelta"] = lambda value: format_timedelta(
        value, granularity="minute", threshold=0.9
    )

    @app.context_processor
    def inject_helpers():
        if "now" not in g:
            g.now = now_utc()
        return {
            "now": g.now,
            "phase_rules": PHASE_RULES,
            "languages": app.config["LANGUAGES"],
            "site_name": app.config["SITE_NAME"],
            "current_locale": lambda: str(get_locale() or "en"),
            "current_timezone": lambda: str(get_timezone()),
            "stage_labels": STAGE_LABELS,
            **{
                name: getattr(idea_permissions, name)
                for name in (
                    "can_submit_idea",
                    "can_vote_idea",
                    "can_comment_idea",
                    "can_edit_idea",
                    "can_withdraw_idea",
                    "can_participate",
                )
            },
            "can_flag": moderation_permissions.can_flag,
            "can_moderate_idea": moderation_permissions.can_moderate_idea,
            "is_staff_anywhere": lambda user: (
                user.is_authenticated and (user.is_admin or bool(agency_roles(user)))
            ),
            "staff_agency_slug": _staff_agency_slug,
        }
