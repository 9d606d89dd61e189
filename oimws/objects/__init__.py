"""Uploaded files: a pluggable object store (``ObjectStore``) and its local-disk backend."""

from oimws.objects.base import (
    ObjectInfo,
    ObjectLocation,
    ObjectStore,
    ObjectStoreError,
    PartRejected,
    UploadNotFound,
    UploadPlan,
    combined_hash,
    key_for,
    new_upload_id,
    safe_file_name,
)
from oimws.objects.local import LocalDiskObjectStore

__all__ = [
    "LocalDiskObjectStore",
    "ObjectInfo",
    "ObjectLocation",
    "ObjectStore",
    "ObjectStoreError",
    "PartRejected",
    "UploadNotFound",
    "UploadPlan",
    "combined_hash",
    "key_for",
    "new_upload_id",
    "safe_file_name",
]
