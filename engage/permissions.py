"""The Verdict that every can_* predicate returns, and require() that enforces one."""

from dataclasses import dataclass

from engage.errors import ERROR_DETAILS, NotPermitted


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
    """Raise NotPermitted with the verdict's reason unless it allows: a 403 page or
    problem+json in a view (engage.errors), a refusal the caller can catch elsewhere."""
    if not verdict:
        raise NotPermitted(getattr(verdict, "reason", None) or ERROR_DETAILS[403])
