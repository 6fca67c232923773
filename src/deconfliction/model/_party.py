"""Parties: the organisations on the hotline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from deconfliction.errors import InvalidInput
from deconfliction.model._checks import aware, enum_value, text
from deconfliction.model._enums import PartyKind

__all__ = ["MAX_LEVELS", "EscalationLevel", "Party"]

MAX_LEVELS = 5
"""Most escalation levels above the duty desk."""


@dataclass(frozen=True, slots=True)
class EscalationLevel:
    """A level of a party's escalation ladder above its duty desk (level 0), e.g. the watch
    commander, then the liaison headquarters: a notice still unanswered at its deadline
    goes up one level, with ``deadline_s`` more to answer."""

    name: str
    deadline_s: float = 900.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", text(self.name, "name", max_len=100))
        d = self.deadline_s
        if not 1.0 <= d <= 86_400.0:
            raise InvalidInput("deadline_s", "must be between 1 s and 24 h")
        object.__setattr__(self, "deadline_s", float(d))


@dataclass(frozen=True, slots=True)
class Party:
    """An organisation on the hotline.

    >>> from uuid import uuid4
    >>> from datetime import datetime, timezone
    >>> p = Party(uuid4(), "Blue", "armed_force", datetime.now(timezone.utc))
    >>> p.kind
    <PartyKind.ARMED_FORCE: 'armed_force'>
    """

    id: UUID
    name: str
    kind: PartyKind
    created_at: datetime
    contact: str = ""
    """Free text: how to reach the party's duty desk out of band (phone, radio net…)."""
    languages: tuple[str, ...] = ("en",)
    """BCP 47 language tags the party reads, preferred first."""
    version: int = 1
    escalation: tuple[EscalationLevel, ...] = ()
    """The ladder above the duty desk, lowest first (empty: unanswered notices expire)."""

    def __post_init__(self) -> None:
        ladder = tuple(self.escalation)
        if len(ladder) > MAX_LEVELS:
            raise InvalidInput("escalation", f"at most {MAX_LEVELS} levels")
        if len({lv.name for lv in ladder}) != len(ladder):
            raise InvalidInput("escalation", "level names must differ")
        object.__setattr__(self, "escalation", ladder)
        object.__setattr__(self, "name", text(self.name, "name", max_len=200))
        object.__setattr__(self, "kind", enum_value(PartyKind, self.kind, "kind"))
        object.__setattr__(
            self, "contact", text(self.contact, "contact", max_len=1000, required=False)
        )
        langs = tuple(self.languages)
        if not langs or len(langs) > 20:
            raise InvalidInput("languages", "must list 1 to 20 language tags")
        for i, tag in enumerate(langs):
            t = text(tag, f"languages[{i}]", max_len=35)
            if not all(c.isalnum() or c == "-" for c in t):
                raise InvalidInput(
                    f"languages[{i}]", "must be a BCP 47 tag such as 'en' or 'fr-FR'"
                )
        object.__setattr__(self, "languages", langs)
        object.__setattr__(self, "created_at", aware(self.created_at, "created_at"))
