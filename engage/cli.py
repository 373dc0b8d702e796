"""Thin `flask --app engage …` commands that call services."""

import click
from flask import Flask, current_app
from sqlalchemy import select

from engage import demo
from engage.agencies.models import Agency
from engage.auth.services import PASSWORD_MAX, PASSWORD_MIN, create_site_admin
from engage.errors import DomainError, ValidationFailed
from engage.extensions import db
from engage.tokens.services import create_token
from engage.webhooks.services import run_worker


def register_commands(app: Flask) -> None:
    @app.cli.command("demo")
    def demo_command():
        """Load demo data once (never in production)."""
        if current_app.config["ENGAGE_ENV"] == "production":
            raise click.ClickException("Demo data is never loaded in production.")
        created = demo.load_demo_data()
        db.session.commit()
        click.echo("Demo data loaded." if created else "Demo data was already there.")
        click.echo(f"Demo accounts (password: {demo.DEMO_PASSWORD}):")
        for email, description in demo.DEMO_ACCOUNTS:
            click.echo(f"  {email:<26} {description}")

    @app.cli.command("create-admin")
    @click.argument("email")
    @click.password_option(prompt="Password for the site admin")
    def create_admin_command(email: str, password: str):
        """Create a site admin (or promote an existing account)."""
        if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
            raise click.ClickException(
                f"The password needs {PASSWORD_MIN} to {PASSWORD_MAX} characters."
            )

        try:
            user, created = create_site_admin(email, password)
        except ValidationFailed as error:
            raise click.ClickException(str(error.message)) from None
        db.session.commit()
        click.echo(("Created" if created else "Promoted") + f" site admin #{user.id}.")

    @app.cli.group("api-token")
    def api_token_group():
        """Manage agencies' API tokens."""

    @api_token_group.command("create")
    @click.option("--agency", "agency_slug", required=True, help="The agency's slug.")
    @click.option("--name", required=True, help="A name to recognise the token by.")
    @click.option(
        "--scopes",
        default="ideas:read",
        show_default=True,
        help="Comma-separated: ideas:read, pipeline:write.",
    )
    @click.option(
        "--expires-in-days",
        type=int,
        default=None,
        metavar="N",
        help="The token stops working N days from now (default: never).",
    )
    def create_api_token_command(
        agency_slug: str, name: str, scopes: str, expires_in_days: int | None
    ):
        """Create a token and print it alone on the last line (it is not stored)."""

        agency = db.session.scalar(select(Agency).where(Agency.slug == agency_slug))
        if agency is None:
            raise click.ClickException(f"No agency with the slug {agency_slug!r}.")
        scope_list = [scope.strip() for scope in scopes.split(",") if scope.strip()]
        try:
            token, value = create_token(
                None, agency, name, scope_list, expires_in_days=expires_in_days
            )
        except DomainError as error:
            raise click.ClickException(str(error.message)) from None
        db.session.commit()
        click.echo(f"Created token {token.prefix}… for {agency.name} ({token.scopes}).")
        if token.expires_at is not None:
            click.echo(f"It expires at {token.expires_at.isoformat(timespec='seconds')}.")
        click.echo("Keep it now: it cannot be shown again.")
        click.echo(value)

    @app.cli.command("worker")
    @click.option("--once", is_flag=True, help="Deliver what is due, then stop.")
    @click.option("--interval", default=2.0, show_default=True, help="Seconds between rounds.")
    def worker_command(once: bool, interval: float):
        """Deliver webhook events and e-mails from the outbox (at least once, with back-off)."""
        run_worker(once=once, interval=interval)
