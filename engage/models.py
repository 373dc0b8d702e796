"""Imports every model so that the metadata (and Alembic) sees all tables."""

from engage.agencies.models import Agency, Invitation, Membership
from engage.api.models import IdempotentResponse
from engage.audit import ModerationAction
from engage.auth.models import User, UserSession
from engage.challenges.models import Challenge, Tag, challenge_tags
from engage.ideas.models import Comment, Idea, PipelineEvent, Vote, idea_tags
from engage.mail import OutboxEmail
from engage.moderation.models import Flag, RiskFlag
from engage.tokens.models import ApiToken
from engage.webhooks.models import OutboxEvent, Webhook, WebhookDelivery

__all__ = [
    "Agency",
    "ApiToken",
    "IdempotentResponse",
    "OutboxEmail",
    "OutboxEvent",
    "Webhook",
    "WebhookDelivery",
    "Challenge",
    "Comment",
    "Flag",
    "Idea",
    "Invitation",
    "Membership",
    "ModerationAction",
    "PipelineEvent",
    "RiskFlag",
    "Tag",
    "User",
    "UserSession",
    "Vote",
    "challenge_tags",
    "idea_tags",
]
