"""Agent-based simulation of labor-intensive industrial transfer into poverty-alleviated counties.

Imports point one way, down this list (``sim.engines`` defers the reference engine, which
needs Mesa); ``sim`` never imports ``experiments``:

- entry points: ``sim.cli`` (``python -m sim``), ``sim.api`` (``sim.run``: the same run from
  Python, returning a ``RunResult``), ``sim.app`` (the classroom demo);
- the Mesa layer: ``sim.mesa_model`` (``sim.TransferModel``), ``sim.reference``, ``sim.agents``;
- outputs: ``sim.jobs`` (job directories, sweep names), ``sim.report`` (report pages),
  ``sim.results``, ``sim.plots``, ``sim.style`` (the one figure style), ``sim.survival``,
  ``sim.atomic``;
- the model: ``sim.engines`` (picks an engine), the numba engine ``sim.engine`` and
  ``sim.kernels``, ``sim.params``, ``sim.rules``, ``sim.world``, ``sim.state``,
  ``sim.industries``;
- ``sim.config`` (schema, validation, ``compose`` of ``configs/``) and ``sim.codes``.
"""

__version__ = "0.1.0"
__all__ = ["RunInputError", "RunResult", "TransferModel", "run"]


def __getattr__(name: str):
    # Imported on first use: they defer Mesa, Hydra and the engine, so ``import sim`` stays
    # cheap.
    if name == "TransferModel":
        from sim.mesa_model import TransferModel

        return TransferModel
    if name in ("run", "RunResult", "RunInputError"):
        from sim import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
