"""The project's one exception tree.

Every error the package raises on purpose derives from :class:`DeconflictionError`, so
callers (and, later, the API's problem-details mapper) can catch it in one place.

>>> try:
...     raise InvalidVolume("altitude.lower_m", "must be below altitude.upper_m")
... except DeconflictionError as exc:
...     print(exc.field, "-", exc.reason)
altitude.lower_m - must be below altitude.upper_m
"""

from __future__ import annotations

__all__ = ["DeconflictionError", "InvalidVolume", "InvalidGeoJSON"]


class DeconflictionError(Exception):
    """Root of every error raised by the deconfliction package."""


class InvalidVolume(DeconflictionError, ValueError):
    """A footprint, altitude band, time window or 4D volume is invalid.

    ``field`` names the offending field as a dotted path (``"footprint.vertices[3]"``),
    ``reason`` says what is wrong with it in plain words.
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidGeoJSON(InvalidVolume):
    """A GeoJSON document could not be turned into volumes (its ``field`` is a JSON path)."""
