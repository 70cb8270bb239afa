"""The installed graphtab version (one version for all four packages)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("graphtab")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0+unknown"
