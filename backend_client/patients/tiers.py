"""How well a typed word matches a name: the tiers search scores (``search.py``), how
corrections are ordered, and how a match is named to the user."""

from __future__ import annotations

from dataclasses import dataclass, field

import jellyfish

from backend_client.patients import names

# Scores of one token's match, best first: the word itself; another spelling of the same
# name (name_equivalents.txt); a prefix or an initial; one edit away; sounds alike. A part
# of a hyphenated name, a middle, preferred or previous name scores one less than a whole
# given or family name.
EXACT, VARIANT, PREFIX, FUZZY, PHONETIC = 16, 14, 12, 8, 4


@dataclass
class NameToken:
    text: str
    fuzzy: list[str] = field(default_factory=list)      # terms one edit away
    phonetic: list[str] = field(default_factory=list)   # terms that sound alike
    alts: list[str] = field(default_factory=list)       # other spellings of the same name
    # Whether the index holds the word itself / a word starting with it (several-word
    # queries only; None: not looked up).
    whole: bool | None = None
    starts: bool | None = None

    @property
    def upper(self) -> str:
        return names.prefix_upper_bound(self.text)


def closeness(typed: str, term: str) -> tuple[int, float, int, str]:
    """Sort key of a correction: fewer edits, then more alike from the start (Jaro-Winkler
    weighs the first letters, which people get right most often), then as long as what was
    typed (a swapped pair keeps the length), then the word itself."""
    return (int(jellyfish.damerau_levenshtein_distance(typed, term)),
            -float(jellyfish.jaro_winkler_similarity(typed, term)),
            abs(len(term) - len(typed)), term)


def tier_name(worst: int) -> str:
    """The tier of a match, named by its weakest word (``PatientSummary.tier``)."""
    for floor, name in ((EXACT - 1, "exact"), (VARIANT - 1, "other spelling"),
                        (PREFIX - 1, "prefix"), (FUZZY - 1, "similar spelling")):
        if worst >= floor:
            return name
    return "sounds alike"


def matched_on(worst: int, previous: bool, also: str = "") -> str:
    """What to tell the user about a match: the weakest token match, previous names, and
    what besides the name decided it (``also``: "date of birth", "phone", ...)."""
    parts = [also] if also else []
    if previous:
        parts.append("previous name")
    tier = tier_name(worst)
    if tier in ("other spelling", "similar spelling", "sounds alike"):
        parts.append(tier)
    return ", ".join(parts)
