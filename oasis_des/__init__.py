"""oasis_des: OASIS's social-media simulation as a reproducible discrete-event simulation."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("oasis_des")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+source"

from oasis_des.platform.actions import ACTION_SPECS, ActionType  # noqa: E402
from oasis_des.platform.platform import Platform  # noqa: E402

__all__ = ["ACTION_SPECS", "ActionType", "Platform", "__version__"]
