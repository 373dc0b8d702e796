"""The Verdict that every can_* predicate returns, and require() for views."""

from dataclasses import dataclass

from flask import abort


@dataclass(frozen=True)
class Verdict:
    """The answer of a permission predicate: truthy when allowed, else with a reason."""

    allowed: bool
    reason: object = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Verdict(True)


def deny(reason) -> Verdict:
    return Verdict(False, reason)


def require(verdict) -> None:
    """Abort with 403 and the verdict's reason unless it allows."""
    if not verdict:
        abort(403, description=getattr(verdict, "reason", None) or None)
