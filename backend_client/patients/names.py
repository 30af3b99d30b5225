"""Name normalisation for search: one place, used by the service and the bulk seed loader.

A name becomes *terms*: case-folded, accent-free tokens (``Müller`` → ``muller``,
``O'Brien`` → ``obrien`` and ``brien``, ``Smith-Jones`` → ``smithjones``, ``smith``,
``jones``). Names in other scripts keep their own form and add a Latin transliteration
(``Иванов`` → ``иванов`` and ``ivanov``), so either spelling finds them.

The spelling dictionary maps *variants* to terms: each term under itself and under every
single-character deletion (the symmetric-delete scheme of SymSpell), which finds all
names one edit away — insertion, deletion, substitution or transposition — with exact
index lookups; and under a phonetic key (Metaphone) for sound-alikes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import jellyfish
from anyascii import anyascii

# Where a term came from (patient_name_terms.source). A whole given or family name is a
# primary source; a part of a hyphenated one, a middle, preferred or previous name ranks
# a little lower in search results (search.PENALTY).
FAMILY, GIVEN, MIDDLE, PREFERRED, PREVIOUS_FAMILY, PREVIOUS_GIVEN = 1, 2, 3, 4, 5, 6
FAMILY_PART, GIVEN_PART = 7, 8
PRIMARY_SOURCES = (FAMILY, GIVEN)
PREVIOUS_SOURCES = (PREVIOUS_FAMILY, PREVIOUS_GIVEN)
_PART_OF = {FAMILY: FAMILY_PART, GIVEN: GIVEN_PART}

# Dictionary kinds (name_variants.kind).
DELETION, PHONETIC = 0, 1

MIN_PREFIX = 2      # prefixes are searched from this many characters
MIN_FUZZY = 3       # misspellings are looked up for terms at least this long
MIN_PHONETIC = 3

# Letters that Unicode decomposition does not turn into ASCII letters plus accents.
_FOLD = str.maketrans({
    "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th",
    "ı": "i", "ħ": "h", "ŀ": "l", "ŧ": "t",
})
_JOINERS = re.compile(r"[’'`´ʼ‘.]")          # O'Brien, St. John: joined into one term
_SEPARATORS = re.compile(r"[\s\-‐‑–—_,;/()]+")   # split into parts


def fold(text: str) -> str:
    """Case-fold and strip accents; other scripts are kept as they are."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_FOLD)
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped)


def _is_ascii(text: str) -> bool:
    return all(ord(c) < 128 for c in text)


def _clean(part: str) -> str:
    return "".join(c for c in part if c.isalnum())


def tokens(text: str) -> list[str]:
    """The query-side tokens of a string: folded, split, joiners removed. No duplicates."""
    out: list[str] = []
    for chunk in _SEPARATORS.split(fold(text)):
        joined = _clean(_JOINERS.sub("", chunk))
        if joined and joined not in out:
            out.append(joined)
    return out


def name_terms(name: str) -> list[str]:
    """The index-side terms of one name field (a superset of what a query might type)."""
    return [term for term, _ in _split_terms(name)]


@lru_cache(maxsize=1 << 17)
def _split_terms(name: str) -> tuple[tuple[str, bool], ...]:
    """(term, is_part) for one name field: each word whole, the parts of a hyphenated or
    apostrophed word ("smith-jones" → smith, jones; "o'brien" → brien), transliterations."""
    terms: dict[str, bool] = {}
    for chunk in re.split(r"\s+", fold(name)):
        whole = _clean(_JOINERS.sub("", chunk))
        if whole:
            terms.setdefault(whole, False)
        parts = [_clean(p) for p in re.split(r"[\-‐‑–—'’`´ʼ‘._]+", chunk)]
        if len([p for p in parts if p]) > 1:
            for p in parts:
                if len(p) >= MIN_PREFIX:
                    terms.setdefault(p, True)
    for term, is_part in list(terms.items()):
        if not _is_ascii(term):
            terms.setdefault(transliterate(term), is_part)
    return tuple(terms.items())


def transliterate(term: str) -> str:
    return _clean(anyascii(term).lower())


@lru_cache(maxsize=1 << 16)
def sort_name(family: str, given: str) -> str:
    """The key search results are ordered by among equals: family, then given name."""
    return f"{' '.join(tokens(family))}\x1f{' '.join(tokens(given))}"


def deletions(term: str) -> set[str]:
    return {term[:i] + term[i + 1:] for i in range(len(term))}


def phonetic(term: str) -> str:
    ascii_term = term if _is_ascii(term) else transliterate(term)
    if len(ascii_term) < MIN_PHONETIC or not ascii_term.isalpha():
        return ""
    return str(jellyfish.metaphone(ascii_term))


def dictionary_rows(term: str) -> Iterator[tuple[str, str, int]]:
    """(variant, term, kind) rows of the spelling dictionary for one term."""
    if len(term) >= MIN_FUZZY:
        yield term, term, DELETION
        for variant in deletions(term):
            yield variant, term, DELETION
    key = phonetic(term)
    if key:
        yield f"#{key}", term, PHONETIC


def query_variants(token: str) -> tuple[list[str], str]:
    """Variants to look up for a typed token: itself and its deletions, and its phonetic key."""
    variants = [token, *sorted(deletions(token))] if len(token) >= MIN_FUZZY else []
    key = phonetic(token)
    return variants, (f"#{key}" if key else "")


def within_one_edit(a: str, b: str) -> bool:
    return within_edits(a, b, 1)


def within_edits(a: str, b: str, edits: int) -> bool:
    return a != b and int(jellyfish.damerau_levenshtein_distance(a, b)) <= edits


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix`` (C collation)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


@dataclass(frozen=True)
class PersonNames:
    given: str
    family: str
    middle: str = ""
    preferred: str = ""
    previous: tuple[tuple[str, str], ...] = ()  # (given, family) pairs


def patient_terms(names: PersonNames) -> list[tuple[str, int]]:
    """Every (term, source) a patient is found by. A term found in several places keeps
    its best source: a whole given or family name beats a part, which beats the rest."""
    seen: dict[str, int] = {}
    fields: list[tuple[str, int]] = [(names.family, FAMILY), (names.given, GIVEN),
                                     (names.middle, MIDDLE), (names.preferred, PREFERRED)]
    for given, family in names.previous:
        fields += [(family, PREVIOUS_FAMILY), (given, PREVIOUS_GIVEN)]
    def add(term: str, src: int) -> None:
        if term and (term not in seen or _RANK[src] < _RANK[seen[term]]):
            seen[term] = src

    for value, source in fields:
        if not value:
            continue
        for term, is_part in _split_terms(value):
            add(term, _PART_OF.get(source, source) if is_part else source)
        if source in _JOINABLE:
            for term, is_part in _typed_forms(value):
                add(term, _PART_OF.get(source, source) if is_part else source)
    # CJK names are written family then given with no space ("李娜" for 李 娜): the whole
    # name is one more term, a whole name's (the two parts are still terms of their own).
    for given, family in ((names.given, names.family), *names.previous):
        if given and family and is_cjk(given) and is_cjk(family):
            add(_clean(fold(family + given)), FAMILY)
    return list(seen.items())


# Fields whose words clinics also type joined ("vandam", "delacruz") or in another prefix
# form (McLeod / MacLeod / M'Leod).
_JOINABLE = frozenset({FAMILY, GIVEN, PREVIOUS_FAMILY})
_MAC = re.compile(r"^(mac|mc|m)(?=[a-z]{3,}$)")


@lru_cache(maxsize=1 << 16)
def _typed_forms(name: str) -> tuple[tuple[str, bool], ...]:
    """(term, is_part) a name is also typed as: a name of several words joined into one
    ("van Dam" → vandam, "Ó Súilleabháin" → osuilleabhain), and the Mac/Mc/M' family
    written in its other forms with the stem alone ("MacLeod" → mcleod, leod; "M'Leod"
    → macleod, mcleod, leod). O'Neill needs nothing here: "o neill" already finds the
    part "neill", and "oneil" is a prefix of "oneill"."""
    out: list[tuple[str, bool]] = []
    words = [w for w in (_clean(_JOINERS.sub("", c)) for c in _SEPARATORS.split(fold(name)))
             if w]
    if len(words) > 1:
        out.append(("".join(words), False))
    for chunk in re.split(r"[\s\-‐‑–—]+", fold(name)):
        apostrophe = bool(re.match(r"^m['’`´ʼ‘]", chunk))
        word = _clean(_JOINERS.sub("", chunk))
        m = _MAC.match(word) if word.isascii() else None
        if m and (m.group(1) != "m" or apostrophe):
            stem = word[m.end():]
            out += [(f"mac{stem}", True), (f"mc{stem}", True), (stem, True)]
    return tuple(t for t in out if t[0])


def is_cjk(text: str) -> bool:
    """Han, kana or hangul: scripts whose names are written without spaces."""
    return any("\u3040" <= c <= "\u30ff" or "\u3400" <= c <= "\u9fff"
               or "\uac00" <= c <= "\ud7af" or "\uf900" <= c <= "\ufaff" for c in text)


@lru_cache(maxsize=1)
def _equivalence_groups() -> dict[str, tuple[str, ...]]:
    """The curated table of names spelt differently (``name_equivalents.txt``), read once,
    on first use (never at import): each spelling → the other spellings of its group."""
    from importlib.resources import files

    out: dict[str, list[str]] = {}
    source = files("backend_client.patients").joinpath("name_equivalents.txt")
    for line in source.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0]
        group = list(dict.fromkeys(t for w in line.split() for t in ["".join(tokens(w))] if t))
        for term in group:
            out.setdefault(term, [])
            out[term] += [t for t in group if t != term and t not in out[term]]
    return {k: tuple(v) for k, v in out.items()}


def equivalents(term: str) -> tuple[str, ...]:
    """Other spellings of the same name ("mohammed" → muhammad, mohamed, ...)."""
    return _equivalence_groups().get(term, ())


ALL_PAIRS_UP_TO = 12  # terms; a patient with more gets the pairs that touch the current name


def penalty(source: int) -> int:
    return 0 if source in PRIMARY_SOURCES else 1


def patient_pairs(terms: list[tuple[str, int]]) -> list[tuple[str, str, int, bool]]:
    """(first, second, penalty, previous) for every ordered pair of distinct terms; for
    very long names only the pairs with a word of the current given or family name."""
    current = {FAMILY, GIVEN, FAMILY_PART, GIVEN_PART}
    every = len(terms) <= ALL_PAIRS_UP_TO
    return [(a, b, penalty(sa) + penalty(sb), sa in PREVIOUS_SOURCES or sb in PREVIOUS_SOURCES)
            for a, sa in terms for b, sb in terms
            if a != b and (every or sa in current or sb in current)]


_RANK = {FAMILY: 0, GIVEN: 0, FAMILY_PART: 1, GIVEN_PART: 1, PREFERRED: 2, MIDDLE: 2,
         PREVIOUS_FAMILY: 3, PREVIOUS_GIVEN: 3}


def dictionary_for(terms: Iterable[str]) -> set[tuple[str, str, int]]:
    rows: set[tuple[str, str, int]] = set()
    for term in terms:
        rows.update(dictionary_rows(term))
    return rows


MRN_PREFIX = "M"
MRN_ISSUER = "clinic"   # the issuer recorded on MRNs the clinic assigns itself


def format_mrn(number: int) -> str:
    """Clinic-assigned MRNs: "M" and seven digits, from the ``patient_mrn_seq`` sequence."""
    return f"{MRN_PREFIX}{number:07d}"


def phone_digits(phone: str) -> str:
    """Digits only, for exact phone lookup ("+1 (555) 123-4567" → "15551234567")."""
    return "".join(c for c in phone if "0" <= c <= "9")
