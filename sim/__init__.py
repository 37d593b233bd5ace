"""Agent-based simulation of labor-intensive industrial transfer into poverty-alleviated counties.

Layers (dependencies point one way): ``sim.config`` (schema) -> ``sim.world``, ``sim.kernels``,
``sim.engine`` (numpy/numba) -> ``sim.results`` -> ``sim.plots``, ``sim.cli``.
``sim.TransferModel`` (``sim.mesa_model``) wraps an engine as a Mesa model; it is imported on
first use, so ``import sim`` stays cheap.
"""

__version__ = "0.1.0"
__all__ = ["TransferModel"]


def __getattr__(name: str):
    if name == "TransferModel":
        from sim.mesa_model import TransferModel

        return TransferModel
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
