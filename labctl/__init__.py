"""labctl: experiment control and calibration for dissipatively entangled spin ensembles.

The package is split into sub-packages:

- :mod:`labctl.sim` -- the physics of Eq. (2) of Chu et al.: spin algebra, exact steady states,
  observables and brute-force references;
- :mod:`labctl.sequences` -- target catalog, hardware plans and instrument programs;
- :mod:`labctl.analysis` -- ellipse fitting, phase estimation, squeezing and calibration fits;
- :mod:`labctl.drivers` -- QCoDeS instruments and their simulated twins.

This module stays light: importing :mod:`labctl.sim` must not pull in QCoDeS.
"""

from pathlib import Path as _Path

__version__ = "0.1.0"

# In a source checkout the sub-packages live in sibling folders (sim/, sequences/, ...) that
# setuptools maps into this namespace when installing; when this file is imported from the
# checkout itself (e.g. `python -m pytest` run at its root puts it first on sys.path), look
# for them there too.
_checkout = _Path(__file__).resolve().parent.parent
if (_checkout / "pyproject.toml").is_file() and (_checkout / "sim" / "__init__.py").is_file():
    __path__.append(str(_checkout))
