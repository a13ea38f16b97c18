"""The one exception hierarchy of labctl.

Every sub-package may import this leaf module. Each message says what is wrong, where
(file, key, ensemble index) and what would be valid, so that an operator can act on it
without reading a traceback.
"""


class LabctlError(Exception):
    """Root of every error labctl raises on purpose."""


class InputError(LabctlError, ValueError):
    """A value given by a user or a caller is malformed or out of range."""


class ConditionError(InputError):
    """Model parameters violate the pure-steady-state conditions of Sec. II of the paper."""


class StateTooLargeError(LabctlError, MemoryError):
    """A product-basis representation would not fit the memory budget."""


class ConfigError(InputError):
    """A configuration, target, hardware or calibration file is invalid."""


class PlanError(LabctlError):
    """A hardware plan cannot realise the requested model within the apparatus' limits."""


class RenderError(LabctlError):
    """A plan cannot be rendered into instrument programs."""


class FitError(LabctlError):
    """A fit cannot be performed on the data given (too few points, degenerate data, ...)."""
