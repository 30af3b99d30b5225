"""The password policy (NIST SP 800-63B) and the keys a password gives, without a
database."""

from __future__ import annotations

import hashlib

import pytest
from argon2 import PasswordHasher

from backend_client.accounts.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    Credential,
    PasswordHashing,
    PasswordPolicy,
    derive_keys,
    load_blocklist,
)
from backend_client.errors import ValidationError

policy = PasswordPolicy()
GOOD = "amber tulips near the quay"


def reason(password: str, username: str = "") -> str:
    r = policy.problem(password, username)
    assert r is not None, "expected the password to be refused"
    if password:
        assert password not in r, "a refusal must never echo the password"
    return r


def test_a_passphrase_of_ordinary_words_is_accepted() -> None:
    assert policy.problem(GOOD, "jdoe") is None


@pytest.mark.parametrize("password", [
    "", "tiny", "eleven char",  # 0, 4 and 11 characters
])
def test_fewer_than_12_characters_is_refused_saying_so(password: str) -> None:
    assert f"at least {MIN_LENGTH} characters" in reason(password)


def test_exactly_12_characters_is_enough() -> None:
    assert policy.problem("plum otter 7") is None


def test_64_and_128_character_passphrases_are_accepted() -> None:
    p64 = ("the lighthouse keeper counted gulls before the morning ferry left")[:64]
    assert len(p64) == 64
    assert policy.problem(p64) is None
    p128 = (p64 + " while the baker sang loudly over warm rye loaves in the tiny harbour")[:128]
    assert len(p128) == MAX_LENGTH
    assert policy.problem(p128) is None


def test_more_than_128_characters_is_refused() -> None:
    assert f"at most {MAX_LENGTH}" in reason("w" + "ordy passphrase " * 9)


def test_length_is_counted_in_code_points_after_nfkc() -> None:
    # Eleven emoji and a space: 12 code points (but 46 UTF-8 bytes) is long enough...
    assert policy.problem("🦉🐙🦊🐝 🐢🦀🐬🦜🦔🐞🦩") is None
    # ...and "e" + combining acute composes to one code point: 11 after NFKC.
    assert "at least" in reason("cafe\u0301 crèmes")


def test_spaces_accents_and_other_scripts_are_allowed_with_no_composition_rules() -> None:
    for password in ("ünïcödé wörds ärë fïnë", "всё хорошо спасибо друг",
                     "三月の雨が静かに降っている夜です", "all lower case no digits at all",
                     "   spaces   around   "):
        assert policy.problem(password) is None, password


def test_a_single_repeated_character_is_refused() -> None:
    assert "single character" in reason("aaaaaaaaaaaa")
    assert "single character" in reason("😀" * 12)


@pytest.mark.parametrize("password", [
    "123456789012", "abcdefghijkl", "ZYXWVUTSRQPONM", "987654321098", "qwertyuiopas",
])
def test_trivial_sequences_are_refused(password: str) -> None:
    assert "simple sequence" in reason(password)


def test_a_short_pattern_repeated_is_refused() -> None:
    assert "repeats a short pattern" in reason("abababababab")
    assert "repeats a short pattern" in reason("xyz!xyz!xyz!")


def test_the_username_forwards_or_backwards_is_refused() -> None:
    assert "username" in reason("hello jdoe42 my friend", "jdoe42")
    assert "username" in reason("HELLO JDOE42 MY FRIEND", "jdoe42")
    assert "username" in reason("24eodj is reversed", "jdoe42")
    assert policy.problem(GOOD, "jdoe42") is None


def test_a_common_or_breached_password_is_refused_whatever_its_case() -> None:
    for password in ("password1234", "PassWord1234", "qwerty123456", "1qaz2wsx3edc"):
        assert "common or breached" in reason(password)


def test_the_shipped_blocklist_is_large_lowercase_and_only_long_entries() -> None:
    words = load_blocklist()
    assert len(words) >= 10_000
    sample = sorted(words)[:: max(1, len(words) // 500)]
    assert all(len(w) >= MIN_LENGTH and w == w.casefold() for w in sample)


def test_check_raises_validation_error_on_the_password_field() -> None:
    with pytest.raises(ValidationError) as err:
        policy.check("password1234")
    assert err.value.field == "password"
    assert "password1234" not in str(err.value)


def test_a_custom_blocklist_is_used_instead_of_the_shipped_one() -> None:
    custom = PasswordPolicy(blocklist=frozenset({GOOD}))
    assert custom.problem(GOOD) is not None
    assert custom.problem("password1234") is None


def _matches(cred: Credential, password: str) -> bool:
    """What the database checks: sha256(client key) against the stored key."""
    return hashlib.sha256(derive_keys(password, cred.salt, cred.params).client_key
                          ).digest() == cred.key


def test_a_credential_is_argon2id_and_only_the_same_password_matches() -> None:
    hashing = PasswordHashing()
    cred = hashing.credential(GOOD)
    assert cred.params == "argon2id$v=19$m=65536,t=3,p=4$32" and len(cred.salt) == 16
    assert GOOD.encode() not in cred.key + cred.salt and GOOD not in repr(cred)
    assert _matches(cred, GOOD)
    assert not _matches(cred, GOOD + " ")
    again = hashing.credential(GOOD)
    assert again.salt != cred.salt and again.key != cred.key  # salted


def test_composed_and_decomposed_accents_give_the_same_keys() -> None:
    cred = PasswordHashing().credential("caf\u00e9 au lait s'il vous pla\u00eet")
    assert _matches(cred, "cafe\u0301 au lait s'il vous plai\u0302t")


def test_the_draft_key_differs_from_the_client_key_and_from_person_to_person() -> None:
    hashing = PasswordHashing(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    a, b = hashing.credential(GOOD), hashing.credential(GOOD)
    ka, kb = derive_keys(GOOD, a.salt, a.params), derive_keys(GOOD, b.salt, b.params)
    assert ka.draft_key != ka.client_key and len(ka.draft_key) == 32
    assert ka.draft_key != kb.draft_key  # same password, other account: other key
    assert repr(ka) == "DerivedKeys()"  # keys never reach a log line by accident


@pytest.mark.parametrize("params", ["argon2i$v=19$m=65536,t=3,p=4$32",
                                    "argon2id$v=19$m=99999999,t=3,p=4$32",
                                    "argon2id$v=19$m=65536,t=3000,p=4$32", "garbage", ""])
def test_parameters_an_attacker_could_plant_are_refused_without_hashing(params: str) -> None:
    with pytest.raises(ValueError):
        derive_keys(GOOD, b"0" * 16, params)
