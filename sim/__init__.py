"""Agent-based simulation of labor-intensive industrial transfer into poverty-alleviated counties.

Layers (dependencies point one way): ``sim.config`` (schema) -> ``sim.world``, ``sim.kernels``,
``sim.engine`` (numpy/numba) -> ``sim.results`` -> ``sim.plots``, ``sim.cli``.
"""

__version__ = "0.1.0"
