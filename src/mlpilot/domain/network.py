"""The network of allies outside the team, and who to ask for a given need.

``rank_allies`` scores each ally by the expertise tags (and relation) that share words with the
need, each matching word weighted by its inverse document frequency over the network, so a rare
expertise counts more than one everybody has. Ties go to allies consulted more often.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mlpilot.domain.parsing import (
    NAME_LENGTH,
    normalize_tags,
    optional_text,
    parse_choice,
    require_text,
)
from mlpilot.errors import ValidationError


class Relation(StrEnum):
    """How an ally relates to the initiative."""

    BUSINESS_STAKEHOLDER = "business-stakeholder"
    STAFF_ENGINEER = "staff-engineer"
    USER_RESEARCHER = "user-researcher"
    DATA_SCIENTIST = "data-scientist"
    CUSTOMER_SUPPORT = "customer-support"
    LEGAL = "legal"
    DOMAIN_EXPERT = "domain-expert"
    DATA_ENGINEER = "data-engineer"
    SECURITY = "security"
    OTHER = "other"


# Words a need may use for what a relation brings, beyond the relation's own name.
_RELATION_WORDS: dict[Relation, tuple[str, ...]] = {
    Relation.BUSINESS_STAKEHOLDER: ("business", "budget", "priority", "kpi", "revenue"),
    Relation.STAFF_ENGINEER: ("architecture", "infrastructure", "scale", "production"),
    Relation.USER_RESEARCHER: ("user", "interview", "research", "usability"),
    Relation.DATA_SCIENTIST: ("model", "statistics", "experiment", "feature"),
    Relation.CUSTOMER_SUPPORT: ("customer", "complaint", "ticket", "support"),
    Relation.LEGAL: ("legal", "privacy", "gdpr", "compliance", "consent", "contract"),
    Relation.DOMAIN_EXPERT: ("domain",),
    Relation.DATA_ENGINEER: ("pipeline", "warehouse", "etl", "data"),
    Relation.SECURITY: ("security", "access", "threat"),
    Relation.OTHER: (),
}

_STOP = frozenset(
    "a an and or the of to for in on with who can help me us our we is are need about".split()
)


@dataclass(frozen=True)
class Ally:
    """A person outside the team who can help, and with what."""

    person: str
    relation: Relation
    expertise: tuple[str, ...] = ()
    team: str | None = None


@dataclass(frozen=True)
class Consultation:
    """A logged conversation with an ally about a need."""

    at: datetime
    person: str
    need: str
    initiative: str | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class Match:
    """An ally ranked for a need: the score and the words that matched."""

    ally: Ally
    score: float
    matched: tuple[str, ...]
    consultations: int


def make_ally(
    person: str, relation: str | Relation, expertise: list[str], team: str | None = None
) -> Ally:
    """Validate an ally: a relation from :class:`Relation` and at least one expertise tag."""
    tags = normalize_tags(expertise)
    if not tags:
        raise ValidationError("an ally needs at least one expertise tag, e.g. --expertise gdpr")
    return Ally(
        require_text(person, "person", NAME_LENGTH),
        parse_choice(Relation, relation, "relation"),
        tags,
        optional_text(team),
    )


def words(text: str) -> set[str]:
    """Lowercase word stems of ``text`` without stop words (a light suffix-stripping stemmer)."""
    return {_stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP}


def _stem(word: str) -> str:
    """Plural, -ing/-ed, final e: pipelines~pipeline, pricing~price, processes~process."""
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "xes", "ches", "shes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def _profile(ally: Ally) -> set[str]:
    text = " ".join((*ally.expertise, ally.relation.value, *_RELATION_WORDS[ally.relation]))
    return words(text)


def rank_allies(
    allies: Sequence[Ally], need: str, consultations: Sequence[Consultation] = ()
) -> list[Match]:
    """Allies whose expertise or relation shares words with ``need``, best first."""
    asked = words(require_text(need, "need"))
    if not asked:
        raise ValidationError(f"the need {need!r} has no words to match; describe it")
    profiles = [_profile(ally) for ally in allies]
    document_frequency = Counter(word for profile in profiles for word in profile)
    counts = Counter(c.person for c in consultations)
    matches = []
    for ally, profile in zip(allies, profiles, strict=True):
        hits = sorted(asked & profile)
        if hits:
            score = sum(math.log(1 + len(allies) / document_frequency[w]) for w in hits)
            matches.append(Match(ally, round(score, 6), tuple(hits), counts[ally.person]))
    return sorted(matches, key=lambda m: (-m.score, -m.consultations, m.ally.person))
