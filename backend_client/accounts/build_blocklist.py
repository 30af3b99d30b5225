"""Build ``blocklist.txt.gz``, the common and breached passwords the app refuses.

Sources (both from PyPI wheels, read with ``zipfile``, nothing installed):

* Django 5.2.19, ``django/contrib/auth/common-passwords.txt.gz`` (BSD-3-Clause): the
  20,000 most common passwords in breach corpora, compiled by Royce Williams.
* zxcvbn 4.5.0 (Python port by Daniel Wolf, MIT), ``zxcvbn/frequency_lists.py``, list
  ``passwords``: the 30,000 most frequent passwords of the Xato 10-million-password corpus.

Their licence texts are in ``BLOCKLIST-LICENSES.txt`` beside this file.

Our policy only lets passwords of 12 characters or more through the length rule, so only
those are kept. Breach lists hold few that long (about 400 here), so the list also holds
what people do to a common short password when told "at least 12": append digits, years
or "!", repeat it, or join two common ones (``password1234``, ``dragondragon``,
``iloveyou2024``), plus keyboard walks. Every entry is lower-case (the check ignores
case), NFKC-normalised, 12 to 128 characters, sorted, one per line.

Regenerate (deterministic: same wheels, same file)::

    pip download --no-deps -d /tmp/bl django==5.2.19 zxcvbn==4.5.0
    python -m backend_client.accounts.build_blocklist /tmp/bl
"""

from __future__ import annotations

import argparse
import gzip
import io
import itertools
import re
import sys
import unicodedata
import zipfile
from pathlib import Path

OUT = Path(__file__).with_name("blocklist.txt.gz")
MIN, MAX = 12, 128
SUFFIXES = ("1", "12", "123", "1234", "12345", "123456", "1234567", "12345678", "!", "1!",
            "123!", "!!", "11", "01", "69", "007", "321", "0", "00", "000", "99", "2")
YEARS = tuple(str(y) for y in range(1950, 2031))
PREFIXES = ("my", "the", "i love ", "iloveyou", "ilove", "1", "123")
WALKS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890", "qazwsxedcrfvtgbyhnujmikolp",
         "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p", "qwertzuiop", "azertyuiop", "1q2w3e4r5t6y7u8i9o0p",
         "zaq12wsxcde34rfv", "!qaz@wsx#edc", "!@#$%^&*()_+", "poiuytrewq", "0987654321",
         "mnbvcxz", "lkjhgfdsa", "qweasdzxc", "asdqwezxc", "147258369", "159357258456",
         "741852963", "963852741")


def _read_django(folder: Path) -> list[str]:
    wheel = next(folder.glob("[Dd]jango-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        raw = z.read("django/contrib/auth/common-passwords.txt.gz")
    return gzip.decompress(raw).decode().split()


def _read_zxcvbn(folder: Path) -> list[str]:
    wheel = next(folder.glob("zxcvbn-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        source = z.read("zxcvbn/frequency_lists.py").decode()
    match = re.search(r'"passwords":\s*"([^"]*)"', source)
    if match is None:
        raise SystemExit("zxcvbn wheel: no 'passwords' list in frequency_lists.py")
    return match.group(1).split(",")


def _norm(word: str) -> str:
    return unicodedata.normalize("NFKC", word).casefold()


def build(folder: Path) -> list[str]:
    ranked: list[str] = []
    seen: set[str] = set()
    # Interleave the two rankings so "top N" takes the most common of both.
    for pair in itertools.zip_longest(_read_django(folder), _read_zxcvbn(folder)):
        for w in pair:
            if w and _norm(w) not in seen:
                seen.add(_norm(w))
                ranked.append(_norm(w))
    out: set[str] = {w for w in ranked if len(w) >= MIN}
    bases = [w for w in ranked if 4 <= len(w) < MIN]
    for w in bases[:6000]:
        out.update(w + s for s in SUFFIXES)
        out.add(w * 2)
        out.add(w * 3)
    for w in bases[:1500]:
        out.update(w + y for y in YEARS)
        out.update(p + w for p in PREFIXES)
        out.add(w + " " + w)
    top = [w for w in bases[:150] if w.isalpha()]
    out.update(a + b for a in top for b in top if a != b)
    for walk in WALKS:
        for n in range(MIN, len(walk) + 1):
            out.add(walk[:n])
            out.add(walk[::-1][:n])
    out.update(walk + s for walk in ("qwerty", "asdfgh", "zxcvbn", "qwertyuiop")
               for s in SUFFIXES + YEARS)
    return sorted(w for w in out if MIN <= len(w) <= MAX)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("wheels", type=Path, help="folder holding the Django and zxcvbn wheels")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    words = build(args.wheels)
    buf = io.BytesIO()
    # mtime=0 and no file name: the same input gives the same bytes.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(("\n".join(words) + "\n").encode())
    args.out.write_bytes(buf.getvalue())
    print(f"{len(words)} entries, {len(buf.getvalue())} bytes -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
