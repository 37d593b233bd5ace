"""Moved to :mod:`sim.jobs` (``python -m sim`` names sweep directories, and ``sim`` does not
import ``experiments``).

Kept only for ``experiments.headline``; delete this module once it imports ``sim.jobs``.
"""

from sim.jobs import code_version, default_sweep_dir, sweep_dir_override

__all__ = ["code_version", "default_sweep_dir", "sweep_dir_override"]
