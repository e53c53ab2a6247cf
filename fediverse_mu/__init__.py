"""fediverse-mu: a federated ActivityPub server for hyperlocal expression in tiers-lieux."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fediverse-mu")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

SOFTWARE_NAME = "fediverse-mu"
