"""Versioned per-domain schemas, shared by the backends.

Each domain mixin of a backend declares ``SCHEMA = (domain, migrations)``: migration N (from
1) brings that domain's tables from version N-1 to N. A backend records each domain's version
in its ``schema_versions`` table and runs the missing steps in order at open.
"""

from __future__ import annotations

from oimws.store.errors import StoreError

Schema = tuple[str, tuple[str, ...]]


def declared_schemas(store_class: type) -> list[Schema]:
    """The schemas the classes of a store declare, base classes first."""
    schemas = []
    for cls in reversed(store_class.__mro__):
        schema = cls.__dict__.get("SCHEMA")
        if schema is not None:
            schemas.append(schema)
    return schemas


def steps_to_run(domain: str, version: int, migrations: tuple[str, ...]) -> range:
    """The migration numbers (0-based) still to run for a domain stored at ``version``."""
    if version > len(migrations):
        raise StoreError(
            f"the {domain} schema is at version {version}, newer than this oimws knows "
            f"({len(migrations)}); upgrade oimws")
    return range(version, len(migrations))
