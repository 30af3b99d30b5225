"""Sealing a recording for the object store: a part at a time, hashed as it goes, gives
the very object a one-shot sealing gives, and the SHA-256s the upload sends with it."""

from __future__ import annotations

import hashlib
import os

import pytest

from backend_client.dictation.upload import open_object, seal_object
from backend_client.stores.objects.base import composite_sha256

RID = "0f" * 16


@pytest.mark.parametrize(("size", "part_size"), [
    (1000, 7),            # parts smaller than the 17-byte header
    (1000, 100),          # several parts, the tag inside the last
    (1000, 1020),         # the tag split across the last two parts
    (1000 - 33, 100),     # the object a whole number of parts
    (5 * 1024 * 1024 + 3, 1024 * 1024),
])
def test_sealed_in_parts_opens_and_its_digests_are_its_parts(size: int,
                                                              part_size: int) -> None:
    ogg, key = os.urandom(size), os.urandom(32)
    blob, sha256, digests = seal_object(key, RID, ogg, part_size=part_size)
    assert open_object(key, RID, bytes(blob)) == ogg
    assert len(blob) == size + 33
    assert sha256 == hashlib.sha256(blob).hexdigest()
    slices = [bytes(blob[a:a + part_size]) for a in range(0, len(blob), part_size)]
    assert digests == {n: hashlib.sha256(p).digest() for n, p in enumerate(slices, 1)}
    assert composite_sha256([digests[n] for n in sorted(digests)]) == \
        composite_sha256([hashlib.sha256(p).digest() for p in slices])


def test_sealed_at_once_opens_and_names_its_sha256() -> None:
    ogg, key = os.urandom(4096), os.urandom(32)
    blob, sha256, digests = seal_object(key, RID, ogg)
    assert open_object(key, RID, bytes(blob)) == ogg
    assert sha256 == hashlib.sha256(blob).hexdigest() and digests == {}
    with pytest.raises(ValueError):
        open_object(key, "1f" * 16, bytes(blob))        # another recording's id
