"""The hospital site pack: admission to discharge (H-A1..H-A6, H-D1..H-D7), pure Python over the store.

Its manifest is :data:`pos.hospital.pack.PACK` (the contract: :mod:`pos.packs`). Import what you
need from the submodules; the UI uses :class:`pos.hospital.service.HospitalService` and its
aggregates. This package file stays import-free because the store imports the pack's migration
modules while it migrates. See docs/domain.md and docs/architecture.md.
"""

__all__: list[str] = []
