"""How the search box reads what clinics type (issue 13), and the index forms that answer
it: particles typed joined, CJK names without a space, the Mac/Mc/M' family, other
spellings of a name, initials, years and phone numbers. No database."""

from __future__ import annotations

from datetime import date

import pytest

from backend_client.patients import names
from backend_client.patients.query import parse_query
from backend_client.patients.tiers import (
    EXACT,
    FUZZY,
    PHONETIC,
    PREFIX,
    VARIANT,
    closeness,
    tier_name,
)

TODAY = date(2026, 11, 27)


def terms(given: str, family: str, *previous: tuple[str, str]) -> set[str]:
    return {t for t, _ in names.patient_terms(names.PersonNames(given, family,
                                                                previous=previous))}


@pytest.mark.parametrize(("family", "joined"), [
    ("van Dam", "vandam"), ("da Silva", "dasilva"), ("von der Heide", "vonderheide"),
    ("De la Cruz", "delacruz"), ("San Martín", "sanmartin"), ("Ó Súilleabháin", "osuilleabhain"),
    ("O Neill", "oneill"),
])
def test_a_family_name_of_several_words_is_also_indexed_joined(family: str, joined: str) -> None:
    found = terms("Anna", family)
    assert joined in found
    assert set(names.tokens(family)) <= found  # the words alone still find them


def test_a_previous_family_name_of_several_words_is_indexed_joined_too() -> None:
    assert "vandam" in terms("Anna", "Jansen", ("Anna", "van Dam"))


@pytest.mark.parametrize(("given", "family", "whole"), [
    ("娜", "李", "李娜"), ("太郎", "田中", "田中太郎"), ("민준", "김", "김민준"),
    ("小龙", "李", "李小龙"),
])
def test_cjk_family_and_given_written_together_are_one_more_term(
        given: str, family: str, whole: str) -> None:
    assert {whole, given, family} <= terms(given, family)


def test_latin_names_get_no_family_given_concatenation() -> None:
    assert "damanna" not in terms("Anna", "Dam") and "annadam" not in terms("Anna", "Dam")


@pytest.mark.parametrize(("family", "expected"), [
    ("MacLeod", {"macleod", "mcleod", "leod"}),
    ("McLeod", {"mcleod", "macleod", "leod"}),
    ("M'Leod", {"mleod", "macleod", "mcleod", "leod"}),
    ("MacDonald", {"macdonald", "mcdonald", "donald"}),
])
def test_the_mac_family_is_indexed_in_all_its_forms(family: str, expected: set[str]) -> None:
    assert expected <= terms("Ian", family)


def test_a_plain_m_name_is_not_read_as_a_mac_name() -> None:
    assert "mcartin" not in terms("Anna", "Martin") and "artin" not in terms("Anna", "Martin")


def test_the_joined_and_mac_forms_rank_below_the_name_itself() -> None:
    sources = dict(names.patient_terms(names.PersonNames("Ian", "MacLeod")))
    assert sources["macleod"] == names.FAMILY
    assert sources["mcleod"] == names.FAMILY_PART and sources["leod"] == names.FAMILY_PART


@pytest.mark.parametrize(("typed", "other"), [
    ("mohammed", "muhammad"), ("muhammad", "mohamed"), ("mohamad", "mohammed"),
    ("yusuf", "youssef"), ("youssef", "yusuf"), ("aleksandr", "alexander"),
    ("alexander", "aleksandr"), ("sergey", "sergei"), ("sergei", "sergey"),
])
def test_other_spellings_of_a_name_come_from_the_table(typed: str, other: str) -> None:
    assert other in names.equivalents(typed)
    assert typed not in names.equivalents(typed)


def test_names_without_other_spellings_have_none_and_nicknames_are_not_spellings() -> None:
    assert names.equivalents("smith") == ()
    assert "alex" not in names.equivalents("alexander")


def test_corrections_rank_by_closeness_not_by_how_common_they_are() -> None:
    # Both one edit from "smiht"; the transposition keeps every letter and its start.
    assert sorted(["smit", "smith"], key=lambda t: closeness("smiht", t)) == ["smith", "smit"]
    # Fewer edits always first, whatever the word.
    assert closeness("muler", "muller") < closeness("muler", "mahler")


def test_tiers_are_named_by_the_weakest_word() -> None:
    assert [tier_name(s) for s in (EXACT, EXACT - 1, VARIANT, VARIANT - 1, PREFIX, PREFIX - 1,
                               FUZZY, FUZZY - 1, PHONETIC)] == [
        "exact", "exact", "other spelling", "other spelling", "prefix", "prefix",
        "similar spelling", "similar spelling", "sounds alike"]


def test_an_initial_next_to_a_name_is_kept() -> None:
    assert parse_query("smith j", TODAY).tokens == ("smith", "j")
    assert parse_query("J. Smith", TODAY).tokens == ("smith", "j")
    assert parse_query("smith j r", TODAY).tokens == ("smith", "j", "r")


def test_a_letter_alone_is_still_nothing() -> None:
    assert parse_query("j", TODAY).empty
    assert parse_query("j k", TODAY).empty


def test_a_year_with_a_name_is_a_year_of_birth() -> None:
    q = parse_query("anna 1984", TODAY)
    assert q.tokens == ("anna",) and q.years == (1984,)
    assert q.identifiers == () and q.phones == ()


def test_four_digits_alone_or_out_of_range_are_still_an_identifier() -> None:
    alone = parse_query("1984", TODAY)
    assert alone.years == () and "1984" in alone.identifiers and "M0001984" in alone.identifiers
    assert parse_query("anna 1850", TODAY).years == ()
    assert parse_query("anna 2031", TODAY).years == ()  # after today: not a birth year


def test_a_name_with_a_full_date_is_a_date_not_a_year() -> None:
    q = parse_query("anna 12.03.1984", TODAY)
    assert q.years == () and date(1984, 3, 12) in q.dates


@pytest.mark.parametrize(("typed", "digits"), [
    ("+1 917 206 5843", "19172065843"), ("1-917-206-5843", "19172065843"),
    ("(917) 206-5843", "9172065843"), ("206-5843", "2065843"), ("2065843", "2065843"),
    ("917.206.5843", "9172065843"), ("020 7946 0958", "02079460958"),
    ("7946 0958", "79460958"), ("+44 20 7946 0958", "442079460958"),
])
def test_phone_numbers_in_any_format_are_read_as_their_digits(typed: str, digits: str) -> None:
    q = parse_query(typed, TODAY)
    assert digits in q.phones and q.tokens == ()


def test_six_digits_are_no_phone_number() -> None:
    assert parse_query("206584", TODAY).phones == ()


@pytest.mark.parametrize(("typed", "tokens"), [
    ("李娜", ("李娜",)), ("vandam", ("vandam",)), ("mc leod", ("mc", "leod")),
    ("oneil", ("oneil",)), ("O'Neill", ("oneill",)),
])
def test_query_words(typed: str, tokens: tuple[str, ...]) -> None:
    assert parse_query(typed, TODAY).tokens == tokens


def test_every_line_of_the_spelling_table_is_a_group_of_distinct_spellings() -> None:
    from importlib.resources import files

    table = files("backend_client.patients").joinpath("name_equivalents.txt").read_text("utf-8")
    for line in table.splitlines():
        words = line.split("#", 1)[0].split()
        if words:
            folded = ["".join(names.tokens(w)) for w in words]
            assert len(set(folded)) == len(folded) >= 2, line
