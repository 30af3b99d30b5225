"""Each store round-trips data through the client the app uses, against the real server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pymongo.errors import WriteError
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend_client.backend import Backend
from backend_client.stores.postgres.models import ClinicSetting


def test_postgres_round_trip(backend: Backend) -> None:
    key = f"test-{uuid.uuid4()}"
    # Clinic settings are the operator's (the app's login only reads them, signed in).
    with Session(backend.owner_engine) as session, session.begin():
        session.add(ClinicSetting(key=key, value={"clinic": "Müller & O'Brien Praxis",
                                                  "rooms": [1, 2]}))
    with Session(backend.owner_engine) as session:
        row = session.execute(select(ClinicSetting).where(ClinicSetting.key == key)).scalar_one()
        assert row.value == {"clinic": "Müller & O'Brien Praxis", "rooms": [1, 2]}
        assert row.updated_at.tzinfo is not None


def test_mongo_round_trip_and_validator(backend: Backend) -> None:
    coll = backend.mongo_db["clinic_meta"]
    key = f"test-{uuid.uuid4()}"
    now = datetime.now(UTC).replace(microsecond=0)
    coll.insert_one({"key": key, "value": {"名前": "山田"}, "updated_at": now})
    doc = coll.find_one({"key": key})
    assert doc is not None and doc["value"] == {"名前": "山田"} and doc["updated_at"] == now
    with pytest.raises(WriteError):  # the validator applied by setup refuses a bad document
        coll.insert_one({"key": f"bad-{uuid.uuid4()}"})


def test_mongo_transactions_work_on_the_replica_set(backend: Backend) -> None:
    coll = backend.mongo_db["clinic_meta"]
    key = f"tx-{uuid.uuid4()}"
    with backend.mongo.start_session() as s:
        with pytest.raises(RuntimeError), s.start_transaction():
            coll.insert_one({"key": key, "value": 1, "updated_at": datetime.now(UTC)},
                            session=s)
            raise RuntimeError("abort")
    assert coll.find_one({"key": key}) is None


def test_redis_round_trip(backend: Backend) -> None:
    key = f"dra:test:{uuid.uuid4()}"
    backend.redis.set(key, "Zoë", ex=60)
    assert backend.redis.get(key) == "Zoë".encode()
    assert 0 < backend.redis.ttl(key) <= 60


def test_s3_round_trip(backend: Backend) -> None:
    data = bytes(range(256)) * 1000
    info = backend.objects.put(f"test/{uuid.uuid4()}.bin", data)
    assert backend.objects.get(info.key) == data
