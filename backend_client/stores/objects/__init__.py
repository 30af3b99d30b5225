"""Object storage: one interface, two implementations (S3 and local disk)."""

from backend_client.stores.objects.base import ObjectInfo, ObjectStore, validate_key
from backend_client.stores.objects.local import LocalObjectStore
from backend_client.stores.objects.s3 import S3ObjectStore

__all__ = ["ObjectInfo", "ObjectStore", "LocalObjectStore", "S3ObjectStore", "validate_key"]
