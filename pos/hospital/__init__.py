"""The hospital admission-to-discharge domain (H-A1..H-A6, H-D1..H-D7), pure Python over the store.

Import what you need from the submodules; the UI uses :class:`pos.hospital.service.HospitalService`.
This package file stays import-free because ``pos.store`` imports ``pos.hospital.schema`` while
it migrates. See docs/domain.md.
"""

__all__: list[str] = []
