"""The agency workspace, one module per area; importing them registers their routes."""

from engage.web.workspace import challenges, decisions, integrations, team  # noqa: F401
from engage.web.workspace.base import bp

__all__ = ["bp"]
