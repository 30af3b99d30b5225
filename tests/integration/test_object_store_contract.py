"""One contract, two implementations: S3 (against a real S3 server) and local disk."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend_client.errors import Conflict, NotFound, ValidationError
from backend_client.stores.objects import LocalObjectStore, ObjectStore, S3ObjectStore
from backend_client.stores.objects.base import ResumableObjectStore, composite_sha256
from backend_client.stores.objects.s3 import build_s3_client


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ResumableObjectStore]:
    if request.param == "local":
        yield LocalObjectStore(tmp_path / "objects")
        return
    yield _s3_store(request.getfixturevalue("s3_endpoint"), "contract")


def _s3_store(endpoint: str, prefix: str) -> S3ObjectStore:
    """As the app builds it (backend.py): bodies go through a client that leaves them out
    of the signature, since their SHA-256 goes with them in a signed header."""
    def client(sign_bodies: bool = True) -> Any:
        return build_s3_client(endpoint, region="us-east-1", access_key_id="testing",
                               secret_access_key="testing", sign_bodies=sign_bodies)
    s3 = S3ObjectStore(client(), f"{prefix}-{uuid.uuid4().hex[:12]}",
                       bodies=client(sign_bodies=False))
    s3.ensure_bucket()
    return s3


def test_put_get_stat(store: ObjectStore) -> None:
    data = b"RIFF....WAVEfmt " + bytes(range(256)) * 40
    info = store.put("recordings/2026/rec-1.wav", data, content_type="audio/wav")
    assert info.size == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.content_type == "audio/wav"
    assert store.get("recordings/2026/rec-1.wav") == data
    stat = store.stat("recordings/2026/rec-1.wav")
    assert (stat.size, stat.sha256, stat.content_type) == (info.size, info.sha256, "audio/wav")


def test_put_replaces(store: ObjectStore) -> None:
    store.put("a/b", b"first")
    store.put("a/b", b"second")
    assert store.get("a/b") == b"second"
    assert store.stat("a/b").size == 6


def test_empty_object(store: ObjectStore) -> None:
    store.put("empty", b"")
    assert store.get("empty") == b""
    assert store.stat("empty").size == 0


def test_expected_checksum_mismatch_stores_nothing(store: ObjectStore) -> None:
    with pytest.raises(Conflict, match="checksum"):
        store.put("x/y", b"data", sha256=hashlib.sha256(b"other").hexdigest())
    with pytest.raises(NotFound):
        store.stat("x/y")


def test_expected_checksum_match_is_accepted(store: ObjectStore) -> None:
    data = b"hello"
    info = store.put("x/z", data, sha256=hashlib.sha256(data).hexdigest().upper())
    assert info.sha256 == hashlib.sha256(data).hexdigest()


def test_missing_key_is_not_found(store: ObjectStore) -> None:
    with pytest.raises(NotFound, match="No object is stored under nope/missing"):
        store.get("nope/missing")
    with pytest.raises(NotFound):
        store.stat("nope/missing")


def test_delete_is_idempotent(store: ObjectStore) -> None:
    store.put("d/1", b"1")
    store.delete("d/1")
    store.delete("d/1")
    with pytest.raises(NotFound):
        store.get("d/1")


def test_list_by_prefix_in_key_order(store: ObjectStore) -> None:
    for key in ["p/b", "p/a", "p/sub/c", "q/a", "pz"]:
        store.put(key, key.encode())
    assert [o.key for o in store.list("p/")] == ["p/a", "p/b", "p/sub/c"]
    assert [o.key for o in store.list("p/s")] == ["p/sub/c"]
    assert [o.key for o in store.list()] == ["p/a", "p/b", "p/sub/c", "pz", "q/a"]
    assert all(o.sha256 == hashlib.sha256(o.key.encode()).hexdigest() for o in store.list("p/"))


@pytest.mark.parametrize("key", ["", "/abs", "a//b", "../etc/passwd", "a/../b", "a b", "ä"])
def test_bad_keys_are_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(ValidationError, match="key"):
        store.put(key, b"x")


def test_ping(store: ObjectStore) -> None:
    store.ping()


def test_local_store_detects_a_damaged_file(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    store.put("r/1", b"original audio")
    (tmp_path / "data" / "r" / "1").write_bytes(b"tampered audio")
    with pytest.raises(Conflict, match="damaged"):
        store.get("r/1")


def test_s3_objects_are_encrypted_at_rest(s3_endpoint: str) -> None:
    client = build_s3_client(s3_endpoint, region="us-east-1", access_key_id="testing",
                             secret_access_key="testing")
    store = S3ObjectStore(client, f"sse-{uuid.uuid4().hex[:12]}")
    store.ensure_bucket()
    store.put("k", b"v")
    head = client.head_object(Bucket=store.bucket, Key="k")
    assert head["ServerSideEncryption"] == "AES256"


# ------------------------------------------------------------------ resumable uploads

PART = 5 * 1024 * 1024   # S3's smallest part but the last


def test_the_store_reports_the_checksum_it_computed(store: ResumableObjectStore) -> None:
    data = b"sealed audio" * 1000
    store.put("recordings/one", data)
    assert store.head_checksum("recordings/one") == (len(data),
                                                      hashlib.sha256(data).hexdigest())
    with pytest.raises(NotFound):
        store.head_checksum("recordings/none")
    said = store.put_unread("recordings/two", data[:5], content_type="audio/ogg",
                            sha256=hashlib.sha256(data[:5]).hexdigest())
    # What the store says it computed of what it received, or nothing.
    assert said in ("", hashlib.sha256(data[:5]).hexdigest())
    assert store.get("recordings/two") == data[:5]
    assert store.stat("recordings/two").content_type == "audio/ogg"
    with pytest.raises(Conflict, match="checksum"):
        store.put_unread("recordings/three", data, content_type="audio/ogg",
                         sha256=hashlib.sha256(b"other").hexdigest())


def test_a_multipart_upload_resumes_from_the_parts_the_store_holds(
        store: ResumableObjectStore) -> None:
    data = bytes(range(256)) * (2 * PART // 256) + b"tail"
    chunks = [data[i:i + PART] for i in range(0, len(data), PART)]
    whole = hashlib.sha256(data).hexdigest()
    upload = store.multipart_start("recordings/long", content_type="application/x-test",
                                   sha256=whole)
    etags = {1: store.multipart_put_part("recordings/long", upload, 1, chunks[0])}
    # A restart: all the uploader kept is the upload id; the store says what it holds.
    assert store.multipart_parts("recordings/long", upload) == {1: PART}
    for n in (2, 3):
        etags[n] = store.multipart_put_part("recordings/long", upload, n, chunks[n - 1])
    # A part sent again (a crash before it was noted) replaces the first copy.
    etags[3] = store.multipart_put_part("recordings/long", upload, 3, chunks[2])
    assert store.multipart_parts("recordings/long", upload) == {1: PART, 2: PART, 3: 4}
    with pytest.raises(NotFound):
        store.stat("recordings/long")           # nothing visible before it is joined
    said = store.multipart_complete("recordings/long", upload, {
        n: (etags[n], hashlib.sha256(c).hexdigest()) for n, c in enumerate(chunks, 1)})
    assert said in ("", composite_sha256([hashlib.sha256(c).digest() for c in chunks]))
    assert store.get("recordings/long") == data
    assert store.stat("recordings/long").sha256 == whole
    assert store.head_checksum("recordings/long") == (
        len(data), composite_sha256([hashlib.sha256(c).digest() for c in chunks]))
    with pytest.raises(NotFound):
        store.multipart_parts("recordings/long", upload)


def test_an_unknown_or_aborted_upload_is_not_found(store: ResumableObjectStore) -> None:
    with pytest.raises(NotFound):
        store.multipart_parts("recordings/x", "0" * 32)
    upload = store.multipart_start("recordings/x", content_type="application/x-test",
                                   sha256="0" * 64)
    store.multipart_put_part("recordings/x", upload, 1, b"part")
    store.multipart_abort("recordings/x", upload)
    store.multipart_abort("recordings/x", upload)      # idempotent
    with pytest.raises(NotFound):
        store.multipart_parts("recordings/x", upload)
    with pytest.raises(NotFound):
        store.stat("recordings/x")


def test_a_body_left_out_of_the_signature_goes_with_its_sha256_signed(
        s3_endpoint: str) -> None:
    """The uploads client does not sign bodies (botocore would hash each one again to do
    it). Every request it sends unsigned must carry the body's SHA-256 in a header the
    signature covers, so a body changed on the way is refused by S3 all the same; and
    a part that is a view of a larger buffer arrives as exactly those bytes."""
    store = _s3_store(s3_endpoint, "unsigned")
    sent: list[tuple[str, dict[str, str]]] = []
    for c in {id(store.client): store.client, id(store.bodies): store.bodies}.values():
        c.meta.events.register(
            "before-send.s3",
            lambda request, **_: sent.append((request.url, {
                k: v.decode() if isinstance(v, bytes) else v
                for k, v in request.headers.items()})))
    data = bytes(range(256)) * (3 * PART // 256) + b"tail"
    store.put_unread("r/one", data[:1000], content_type="audio/ogg",
                     sha256=hashlib.sha256(data[:1000]).hexdigest())
    view = memoryview(data)
    upload = store.multipart_start("r/two", content_type="audio/ogg",
                                   sha256=hashlib.sha256(data).hexdigest())
    parts = {}
    for n, (a, b) in enumerate([(0, PART), (PART, len(data))], start=1):
        digest = hashlib.sha256(view[a:b]).hexdigest()
        parts[n] = (store.multipart_put_part("r/two", upload, n, view[a:b], digest), digest)
    store.multipart_complete("r/two", upload, parts)

    unsigned = [(url, h) for url, h in sent
                if h.get("X-Amz-Content-SHA256") == "UNSIGNED-PAYLOAD"]
    assert len(unsigned) == 3          # the put and the two parts, nothing else
    for _url, headers in unsigned:
        auth = str(headers["Authorization"])
        signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
        assert "x-amz-checksum-sha256" in signed and "x-amz-content-sha256" in signed
    assert store.get("r/one") == data[:1000]
    assert store.get("r/two") == data
