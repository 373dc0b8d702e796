"""Idea pages and the participation actions: submit, edit, withdraw, vote, comment."""

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from engage.agencies import queries as agency_queries
from engage.audit import decision_records
from engage.challenges import queries as challenge_queries
from engage.db import now_utc
from engage.errors import DomainError, NotPermitted
from engage.extensions import db
from engage.forms import ActionForm, markdown_preview, render_form
from engage.http import cached_for_visitors, safe_next
from engage.ideas import queries, services, states
from engage.ideas.forms import CommentForm, IdeaForm
from engage.ideas.models import Idea
from engage.ideas.permissions import (
    can_edit_idea,
    can_submit_idea,
    can_view_challenge,
    can_view_idea,
)
from engage.permissions import require
from engage.quotas import comment_quota, idea_quota, vote_quota

bp = Blueprint("ideas", __name__)

IDEA_ID = "<int(max=2147483647):idea_id>"
COMMENTS_SHOWN = 500


def _now():
    return g.setdefault("now", now_utc())


def _load_visible_idea(idea_id: int) -> Idea:
    """The idea, or 404 when it does not exist or this person may not see it."""
    idea = db.session.scalar(
        select(Idea)
        .where(Idea.id == idea_id)
        .options(
            selectinload(Idea.challenge),
            selectinload(Idea.author),
            selectinload(Idea.tags),
            selectinload(Idea.pipeline_events),
        )
    )
    if idea is None or not can_view_idea(current_user, idea, _now()):
        abort(404)
    return idea


def _idea_form_page(template: str, form: IdeaForm, error=None, **context):
    preview = markdown_preview(form.body) if form.preview.data else None
    return render_form(template, form, error, preview=preview, **context)


@bp.route("/challenges/<slug>/ideas/new", methods=["GET", "POST"])
@login_required
@idea_quota
def submit(slug: str):
    challenge = challenge_queries.challenge_by_slug(slug)
    if challenge is None or not can_view_challenge(current_user, challenge, _now()):
        abort(404)
    form = IdeaForm()
    verdict = can_submit_idea(current_user, challenge, _now())
    if not verdict:
        return render_template(
            "ideas/cannot_submit.html", challenge=challenge, reason=verdict.reason
        ), 403
    if form.validate_on_submit() and not form.preview.data:
        try:
            idea = services.submit_idea(
                current_user,
                challenge,
                title=form.title.data,
                body=form.body.data,
                tags=form.tags.data,
                location=form.location.data,
                submission_key=form.submission_key.data,
                now=_now(),
            )
        except DomainError as error:
            return _idea_form_page("ideas/submit.html", form, error, challenge=challenge)
        db.session.commit()
        if idea.is_published:
            flash(_("Thank you! Your idea is published."), "success")
        else:
            flash(
                _("Thank you! Your idea will be published once a moderator has reviewed it."),
                "success",
            )
        return redirect(url_for("ideas.show", idea_id=idea.id))
    return _idea_form_page("ideas/submit.html", form, challenge=challenge)


def _idea_page(idea: Idea, comment_form: CommentForm | None) -> dict:
    """Everything the idea page shows, in a constant number of queries."""
    comments = queries.comments_on(idea.id, COMMENTS_SHOWN)
    challenge = idea.challenge
    return {
        "idea": idea,
        "challenge": challenge,
        "phase": challenge.phase(_now()),
        "comments": comments,
        # Comments by the agency's own staff speak for it: one query for all of them.
        "official_ids": agency_queries.members_among(
            challenge.agency_id, {comment.author_id for comment in comments}
        ),
        "has_voted": idea.id in services.voted_idea_ids(current_user, [idea.id]),
        "votes": services.votes_left(current_user, challenge, _now()),
        # The responses given before the current decision stay on the record.
        "decision_labels": states.DECISION_LABELS,
        "earlier_decisions": (
            decision_records(idea.id)[1:] if idea.decision != states.NO_DECISION else []
        ),
        "comment_form": comment_form,
    }


@bp.route(f"/ideas/{IDEA_ID}")
@cached_for_visitors
def show(idea_id: int):
    idea = _load_visible_idea(idea_id)
    # Visitors get no form, so their page holds no session token and can be cached.
    form = CommentForm() if current_user.is_authenticated else None
    return render_template("ideas/show.html", **_idea_page(idea, form))


@bp.route(f"/ideas/{IDEA_ID}/edit", methods=["GET", "POST"])
@login_required
def edit(idea_id: int):
    idea = _load_visible_idea(idea_id)
    require(can_edit_idea(current_user, idea, _now()))
    form = IdeaForm(obj=idea)
    if not form.is_submitted():
        form.tags.data = ", ".join(tag.name for tag in idea.tags)
    if form.validate_on_submit() and not form.preview.data:
        try:
            services.edit_idea(
                current_user,
                idea,
                title=form.title.data,
                body=form.body.data,
                tags=form.tags.data,
                location=form.location.data,
                now=_now(),
            )
        except DomainError as error:
            return _idea_form_page("ideas/edit.html", form, error, idea=idea)
        db.session.commit()
        flash(_("Your changes are saved."), "success")
        return redirect(url_for("ideas.show", idea_id=idea.id))
    return _idea_form_page("ideas/edit.html", form, idea=idea)


def _act(idea_id: int, action, success_message: str, noop_message: str | None = None):
    """Run a one-button action on an idea and go back where the person came from."""
    idea = _load_visible_idea(idea_id)
    form = ActionForm()
    back = safe_next(form.next.data, url_for("ideas.show", idea_id=idea.id))
    if not form.validate():
        abort(400)
    try:
        changed = action(current_user, idea, now=_now())
    except NotPermitted:
        raise  # the error page, with NotPermitted's status
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(back)
    db.session.commit()
    flash(success_message if changed is not False else noop_message, "success")
    return redirect(back)


@bp.route(f"/ideas/{IDEA_ID}/vote", methods=["POST"])
@login_required
@vote_quota
def vote(idea_id: int):
    return _act(
        idea_id,
        services.cast_vote,
        _("Your vote is counted."),
        _("You had already voted for this idea."),
    )


@bp.route(f"/ideas/{IDEA_ID}/unvote", methods=["POST"])
@login_required
@vote_quota
def unvote(idea_id: int):
    return _act(
        idea_id,
        services.withdraw_vote,
        _("Your vote is withdrawn."),
        _("You had not voted for this idea."),
    )


@bp.route(f"/ideas/{IDEA_ID}/withdraw", methods=["POST"])
@login_required
def withdraw(idea_id: int):
    return _act(idea_id, services.withdraw_idea, _("Your idea is withdrawn."))


@bp.route(f"/ideas/{IDEA_ID}/comments", methods=["POST"])
@login_required
@comment_quota
def comment(idea_id: int):
    idea = _load_visible_idea(idea_id)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            services.add_comment(
                current_user,
                idea,
                form.body.data,
                now=_now(),
                submission_key=form.submission_key.data,
            )
        except NotPermitted:
            raise  # the error page, with NotPermitted's status
        except DomainError as error:
            return render_form("ideas/show.html", form, error, **_idea_page(idea, form))
        db.session.commit()
        flash(_("Your comment is posted."), "success")
        return redirect(url_for("ideas.show", idea_id=idea.id, _anchor="comments"))
    return render_form("ideas/show.html", form, **_idea_page(idea, form))
