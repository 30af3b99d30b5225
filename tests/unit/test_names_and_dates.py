from __future__ import annotations

from datetime import date

import pytest

from backend_client.patients import names
from backend_client.patients.dates import DateProblem, find_dates, parse_birth_date
from backend_client.patients.search import parse_query

TODAY = date(2026, 11, 27)


@pytest.mark.parametrize(("name", "terms"), [
    ("Müller", ["muller"]),
    ("MÜLLER", ["muller"]),
    ("O'Brien", ["obrien", "brien"]),
    ("Smith-Jones", ["smithjones", "smith", "jones"]),
    ("Иванов", ["иванов", "ivanov"]),
    ("Nguyễn Thị", ["nguyen", "thi"]),
    ("Strauß", ["strauss"]),
    ("Łukasz", ["lukasz"]),
])
def test_name_terms(name: str, terms: list[str]) -> None:
    assert names.name_terms(name) == terms


def test_every_single_edit_shares_a_dictionary_variant() -> None:
    term = "lindqvist"
    index = {v for v, _, k in names.dictionary_rows(term) if k == names.DELETION}
    edits = ["lindqvst", "lindqvistt", "lindqvjst", "lindqivst", "xlindqvist"]
    for typo in edits:
        variants, _ = names.query_variants(typo)
        assert index & set(variants), typo
        assert names.within_one_edit(typo, term)


def test_two_edits_are_not_within_one() -> None:
    assert not names.within_one_edit("lindqvist", "lundqvest")


@pytest.mark.parametrize(("text", "expected"), [
    ("1980-03-12", [date(1980, 3, 12)]),
    ("12.03.1980", [date(1980, 3, 12), date(1980, 12, 3)]),
    ("13/03/1980", [date(1980, 3, 13)]),
    ("12 Mar 1980", [date(1980, 3, 12)]),
    ("March 12, 1980", [date(1980, 3, 12)]),
    ("19800312", [date(1980, 3, 12)]),
    ("12.3.80", [date(1980, 3, 12), date(1980, 12, 3)]),
    ("1.1.05", [date(2005, 1, 1)]),
])
def test_written_dates(text: str, expected: list[date]) -> None:
    (match,) = find_dates(text, TODAY)
    assert list(match.candidates) == expected


@pytest.mark.parametrize(("text", "problem"), [
    ("31/02/1980", "31 February 1980 does not exist"),
    ("2/30/1980", "30 February 1980 does not exist"),
    ("1980-13-01", "there is no month 13"),
    ("05/06/1980", "could be 5 June or 6 May"),
    ("yesterday", "is not a date"),
])
def test_birth_date_problems_are_explained(text: str, problem: str) -> None:
    with pytest.raises(DateProblem, match=problem):
        parse_birth_date(text, TODAY)


def test_query_parsing_separates_names_dates_and_numbers() -> None:
    q = parse_query("Müller anna 12.03.1980 M1000001", TODAY)
    assert q.tokens == ("muller", "anna")
    assert date(1980, 3, 12) in q.dates
    assert q.identifiers == ("M1000001",)
    phone = parse_query("+49 (30) 123-4567", TODAY)
    assert phone.phones == ("49301234567",) and phone.tokens == ()
    assert parse_query("a", TODAY).empty
