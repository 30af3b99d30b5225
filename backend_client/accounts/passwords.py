"""Password rules (NIST SP 800-63B) and the keys a password gives (argon2id).

The rules are the ones 800-63B §5.1.1.2 asks for and no others: a minimum length (12 here),
a generous maximum (128), any characters (spaces, accents, emoji), and a check against
passwords known to be common or breached, plus context-specific words (the username) and
trivial repetitions or sequences. No composition rules ("one digit, one symbol") and no
forced periodic change.

Passwords are NFKC-normalised before they are measured and before they are hashed, so the
same passphrase typed on two keyboards (composed or decomposed accents, full-width digits)
is the same password. Nothing here logs, prints or puts a password in a message.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.low_level import Type, hash_secret_raw

from backend_client.errors import ValidationError

BLOCKLIST_PATH = Path(__file__).with_name("blocklist.txt.gz")
MIN_LENGTH = 12
MAX_LENGTH = 128
# A username this short ("jo") would forbid too many good passwords that merely contain it.
_MIN_USERNAME_TO_CHECK = 3
# Keyboard rows and digit runs: a password that is a stretch of one of these is trivial.
_RUNS = ("abcdefghijklmnopqrstuvwxyz", "01234567890123456789", "qwertyuiopasdfghjklzxcvbnm",
         "qwertzuiopasdfghjklyxcvbnm", "azertyuiopqsdfghjklmwxcvbn")


@cache
def load_blocklist(path: Path = BLOCKLIST_PATH) -> frozenset[str]:
    """The shipped list of common and breached passwords (lower-case, NFKC). Read once."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return frozenset(line.rstrip("\n") for line in fh if line.strip())


def normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


@dataclass(frozen=True)
class PasswordPolicy:
    """Checks a new password. ``problem()`` returns why it is refused, or None.

    Args:
        blocklist: lower-case passwords to refuse; None loads the shipped list on first use.
    """

    min_length: int = MIN_LENGTH
    max_length: int = MAX_LENGTH
    blocklist: frozenset[str] | None = field(default=None, repr=False)

    def problem(self, password: str, username: str = "") -> str | None:
        pw = normalise(password)
        if len(pw) < self.min_length:
            return (f"Use at least {self.min_length} characters; a short phrase of a few "
                    "words is easy to remember and hard to guess.")
        if len(pw) > self.max_length:
            return f"Use at most {self.max_length} characters."
        folded = pw.casefold()
        if len(set(folded)) == 1:
            return "The password repeats a single character; choose something less predictable."
        if _is_repeated_pattern(folded):
            return ("The password repeats a short pattern over and over; choose something "
                    "less predictable.")
        if _is_sequence(folded):
            return ("The password is a simple sequence (such as 12345… or abcde… or a keyboard "
                    "row); choose something less predictable.")
        name = normalise(username).strip().casefold()
        if len(name) >= _MIN_USERNAME_TO_CHECK and (name in folded or name[::-1] in folded):
            return "The password must not contain the username, forwards or backwards."
        blocked = self.blocklist if self.blocklist is not None else load_blocklist()
        if folded in blocked:
            return ("This password appears in lists of common or breached passwords, so it "
                    "would be among the first guessed; choose another.")
        return None

    def check(self, password: str, username: str = "", *, field_name: str = "password") -> None:
        """Raises ValidationError on ``field_name`` when the password is refused."""
        reason = self.problem(password, username)
        if reason is not None:
            raise ValidationError(field_name, reason)


def _is_repeated_pattern(s: str) -> bool:
    """"abababababab", "abcabcabcabc", "passpasspass": a unit of up to 4 repeated."""
    for unit in range(1, 5):
        if len(s) % unit == 0 and s[:unit] * (len(s) // unit) == s:
            return True
    return False


def _is_sequence(s: str) -> bool:
    """Every step the same +1 or -1 ("13579" is not; digits wrap, so "890123" is), or a
    stretch of a keyboard row."""
    steps = {(ord(b) - ord(a)) for a, b in zip(s, s[1:], strict=False)}
    if steps <= {1, -9} or steps <= {-1, 9}:
        if s.isdigit() or steps <= {1} or steps <= {-1}:
            return True
    return any(s in run or s in run[::-1] for run in _RUNS)


@dataclass(frozen=True)
class Credential:
    """What the database keeps of a password: SCRAM's StoredKey over an argon2id hash.

    ``key`` = sha256(HMAC-SHA256(argon2id(password, salt), "Client Key")). Knowing it does
    not let anyone sign in: that needs the client key, i.e. the password.
    """

    salt: bytes
    params: str   # "argon2id$v=19$m=65536,t=3,p=4$32": not secret
    key: bytes = field(repr=False)


@dataclass(frozen=True)
class DerivedKeys:
    """What a workstation derives from a typed password (and never stores).

    Attributes:
        client_key: proves the password to the database (``dra_sign_in``).
        draft_key: encrypts the person's kept forms; only they can read them back.
    """

    client_key: bytes = field(repr=False)
    draft_key: bytes = field(repr=False)


class PasswordHashing:
    """argon2id via argon2-cffi (its defaults: RFC 9106 low-memory profile), turned into a
    :class:`Credential` for the database and :class:`DerivedKeys` at sign-in.

    The database never sees a password nor anything it could be guessed from offline
    without its own secret column; the workstation never sees a stored key.

    Args:
        hasher: for tests that need cheaper parameters; None uses the defaults.
    """

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()

    def params(self) -> str:
        h = self._hasher
        return (f"argon2id$v=19$m={h.memory_cost},t={h.time_cost},p={h.parallelism}$"
                f"{h.hash_len}")

    def credential(self, password: str) -> Credential:
        salt = secrets.token_bytes(self._hasher.salt_len)
        params = self.params()
        keys = derive_keys(password, salt, params)
        return Credential(salt, params, hashlib.sha256(keys.client_key).digest())


def derive_keys(password: str, salt: bytes, params: str) -> DerivedKeys:
    """The keys a password gives with these parameters (the account's, from the database).

    Raises ValueError for parameters this version cannot use (or absurdly expensive ones:
    an attacker's database must not make a workstation spend minutes of CPU).
    """
    try:
        kind, version, costs, length = params.split("$")
        cost = dict(part.split("=", 1) for part in costs.split(","))
        memory, time, lanes = int(cost["m"]), int(cost["t"]), int(cost["p"])
        hash_len = int(length)
    except (ValueError, KeyError) as exc:
        raise ValueError("unknown password parameters") from exc
    if (kind != "argon2id" or version != "v=19" or not 8 <= memory <= 1 << 21
            or not 1 <= time <= 20 or not 1 <= lanes <= 16 or not 16 <= hash_len <= 64):
        raise ValueError("unsupported password parameters")
    raw = hash_secret_raw(normalise(password).encode("utf-8"), salt, time_cost=time,
                          memory_cost=memory, parallelism=lanes, hash_len=hash_len,
                          type=Type.ID)
    return DerivedKeys(hmac.new(raw, b"Client Key", hashlib.sha256).digest(),
                       hmac.new(raw, b"Draft Key", hashlib.sha256).digest())
