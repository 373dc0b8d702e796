"""Tags shared by challenges and ideas: parse what people type, find or create the rows."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engage.challenges.models import Tag
from engage.errors import ValidationFailed
from engage.extensions import db

MAX_TAGS = 5
TAG_MAX = 40


def parse_tags(text: str | None) -> list[str]:
    """Split comma-separated tags into distinct, lower-case names. Raises ValidationFailed."""
    names: list[str] = []
    for raw in (text or "").split(","):
        name = " ".join(raw.split()).lower()
        if name and name not in names:
            names.append(name)
    if len(names) > MAX_TAGS:
        raise ValidationFailed(_l("Use at most %(count)d tags.", count=MAX_TAGS), "tags")
    if any(len(name) > TAG_MAX for name in names):
        raise ValidationFailed(
            _l("Each tag can be at most %(count)d characters long.", count=TAG_MAX), "tags"
        )
    return names


def resolve_tags(names: list[str]) -> list[Tag]:
    """Return Tag rows for the names, creating the missing ones."""
    if not names:
        return []
    found = {t.name: t for t in db.session.scalars(select(Tag).where(Tag.name.in_(names)))}
    for name in names:
        if name not in found:
            try:
                with db.session.begin_nested():
                    tag = Tag(name=name)
                    db.session.add(tag)
            except IntegrityError:  # created meanwhile by a concurrent request
                tag = db.session.scalar(select(Tag).where(Tag.name == name))
            found[name] = tag
    return [found[name] for name in names]
