"""Deconfliction Hotline: declare 4D activities, learn at once whom they affect.

It notifies, it never approves. The package is layered (see DESIGN.md §3); this root module
deliberately imports none of its subpackages, so that importing any layer never drags in a
layer above it.

>>> import deconfliction
>>> deconfliction.__all__
['__version__']
"""

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__: str = version("deconfliction")
except PackageNotFoundError:  # pragma: no cover - running from a source tree, not installed
    __version__ = "0.0.0+unknown"
