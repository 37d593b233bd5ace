"""Checkpoint and restart: a run's full state in one file, and a run continued from it.

``run.checkpoint_every = N`` saves the state every N years of the run and at its end into
``checkpoint.npz`` in the run directory; ``run.resume_from = PATH`` continues from such a file.
A run continued from a checkpoint is bit for bit the run made in one go (its summary, tables,
event log and final state), on both engines: every draw of the dynamics is counter-based, keyed
by the step (``sim.rules.uniform``, MODEL.md §4.9), so the state after month t is all that month
t + 1 needs.

**What is saved.** Every attribute of the simulation that holds a ``sim.state.Table`` (counties,
county state, firms, workers), field by field from the table's registry, so a new state field is
saved with no code here; and the attributes named in :data:`SAVED` (the run so far, the
governments' learning and books), encoded generically (arrays, scalars, lists, dicts, the month
and the record). Everything else is in :data:`DERIVED`: built by ``Simulation.__init__`` from the
configuration and the generated world and never changed by a step. A new attribute must be added
to one of the two lists (``tests/test_checkpoint.py`` fails otherwise).

**The file.** One NumPy ``.npz`` (a zip with a CRC per member; no pickles) holding the arrays
and a JSON header: format, code version (``sim.jobs.code_version``), the resolved configuration
and its hash, the step. It is written to a temporary file and renamed over the old one
(``sim.atomic``), so a kill while writing leaves the previous checkpoint intact.

**Refusals** (one line, :class:`CheckpointError`, exit 2 on the command line): a file that is
missing, truncated or corrupt; another code version; a configuration that differs in anything
but :data:`RESUMABLE` (the run's length, checkpoint and output options); a run shorter than the
checkpoint's months.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from sim.atomic import atomic_write
from sim.codes import MONTHS_PER_YEAR
from sim.config import OUTPUT_OPTIONS, Config, ConfigError
from sim.engine import RunRecord, Simulation
from sim.engine.environment import Month
from sim.jobs import code_version
from sim.state import Table

CHECKPOINT = "checkpoint.npz"
FORMAT = 1
HEADER = "header"
HEADER_KEYS = ("code_version", "config_hash", "config", "step", "n_steps", "tables",
               "attributes")

# Settings that may differ between a checkpoint and the run continued from it: none changes
# what happens in a month (results do not depend on the thread count).
RESUMABLE = ("run.years", *OUTPUT_OPTIONS)

# The state outside the tables, saved and restored by name.
SAVED = (
    # the run so far
    "step_index", "n_firms", "record", "step_events", "month",
    # governments: learning, terms, books, pending decisions and their records
    "beliefs", "package_beliefs", "kpi_term", "carried", "counters", "poverty_local_start",
    "ledger", "yearly_spend", "trained", "infra_pending", "retention_pending", "expiries",
    "government_rows", "choices",
)
# Built by ``__init__`` from the configuration and the world; never changed by a step.
DERIVED = (
    "cfg", "params", "replay", "world", "ind", "n_ind", "n_steps", "threads", "seed",
    "residents", "origin_ids", "resettlement_ids", "partner_start", "partner_list", "may_offer",
    "initial_origin_firms", "median_plant_size", "skill_mean_by_kind", "east_demand_base",
    "menu", "levels", "scored", "term_offset",
    # the reference engine: its Mesa model and agents (views onto the tables)
    "host", "roster",
)
# Objects the generic encoding rebuilds by name.
CLASSES = {"Month": Month, "RunRecord": RunRecord}


class CheckpointError(ConfigError):
    """A checkpoint that cannot be continued from (refused like a bad value: one line)."""


def path_in(run_dir: Path) -> Path:
    """The checkpoint file of a run directory."""
    return Path(run_dir) / CHECKPOINT


def tables(sim: Simulation) -> dict[str, Table]:
    """The simulation's state tables by attribute name."""
    return {name: value for name, value in vars(sim).items() if isinstance(value, Table)}


# --- the configuration a checkpoint belongs to --------------------------------------------------

def _flat(obj, prefix: str = "") -> dict:
    out = {}
    for key, value in obj.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def config_items(cfg: Config) -> dict:
    """The resolved configuration as dotted keys (JSON values)."""
    return json.loads(json.dumps(_flat(dataclasses.asdict(cfg))))


def config_hash(items: dict) -> str:
    """First 12 hex digits of the SHA-1 of the settings that must match to continue a run."""
    kept = {k: v for k, v in items.items() if k not in RESUMABLE}
    return hashlib.sha1(json.dumps(kept, sort_keys=True).encode()).hexdigest()[:12]


# --- encoding the state outside the tables ------------------------------------------------------

def _encode(value, arrays: dict):
    """A JSON description of ``value``; its arrays go into ``arrays``."""
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError("object arrays cannot be checkpointed")
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {"array": key}
    if isinstance(value, np.generic):
        key = f"a{len(arrays)}"
        arrays[key] = np.asarray(value)
        return {"scalar": key}
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return {"float": value.hex()}  # exact, and strict JSON
    if type(value).__name__ in CLASSES and type(value) is CLASSES[type(value).__name__]:
        fields = (value._asdict() if isinstance(value, tuple)
                  else {f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
        return {"object": type(value).__name__,
                "fields": {k: _encode(v, arrays) for k, v in fields.items()}}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("only dicts with string keys can be checkpointed")
        return {"dict": {k: _encode(v, arrays) for k, v in value.items()}}
    if isinstance(value, list) and _rows(value):
        # A log of equal tuples of Python scalars (the event log): one array per column.
        columns = []
        for column in zip(*value, strict=True):
            columns.append(_encode(np.array(column), arrays))
        return {"rows": columns}
    if isinstance(value, list | tuple):
        return {type(value).__name__: [_encode(v, arrays) for v in value]}
    raise TypeError(f"a {type(value).__name__} cannot be checkpointed")


def _rows(items: list) -> bool:
    if not items or not all(type(t) is tuple for t in items):
        return False
    width = len(items[0])
    if width == 0 or any(len(t) != width for t in items):
        return False
    return all(type(x) in (bool, int, float) and type(x) is type(items[0][j])
               for t in items for j, x in enumerate(t))


def _decode(spec, arrays: dict):
    """The value described by ``spec`` (the inverse of :func:`_encode`)."""
    if spec is None or isinstance(spec, bool | int | str):
        return spec
    if "array" in spec:
        return arrays[spec["array"]]
    if "scalar" in spec:
        return arrays[spec["scalar"]][()]
    if "float" in spec:
        return float.fromhex(spec["float"])
    if "object" in spec:
        return CLASSES[spec["object"]](**{k: _decode(v, arrays)
                                          for k, v in spec["fields"].items()})
    if "dict" in spec:
        return {k: _decode(v, arrays) for k, v in spec["dict"].items()}
    if "rows" in spec:
        columns = [arrays[c["array"]].tolist() for c in spec["rows"]]
        return list(zip(*columns, strict=True))
    if "list" in spec:
        return [_decode(v, arrays) for v in spec["list"]]
    if "tuple" in spec:
        return tuple(_decode(v, arrays) for v in spec["tuple"])
    raise ValueError(f"unknown entry {sorted(spec)}")


# --- saving -------------------------------------------------------------------------------------

def save(sim: Simulation, path: Path) -> None:
    """Write the full state of ``sim`` to ``path`` atomically (the old file stays until the new
    one is complete)."""
    arrays: dict[str, np.ndarray] = {}
    table_specs = {}
    for name, table in tables(sim).items():
        table_specs[name] = {"n": table.n, "n_industries": table.n_industries,
                             "fields": [f.name for f in table.fields]}
        for spec in table.fields:
            arrays[f"{name}.{spec.name}"] = getattr(table, spec.name)
    attributes = {name: _encode(getattr(sim, name), arrays) for name in SAVED}
    items = config_items(sim.cfg)
    header = {"format": FORMAT, "code_version": code_version(), "config_hash": config_hash(items),
              "config": items, "step": sim.step_index, "n_steps": sim.n_steps,
              "tables": table_specs, "attributes": attributes}
    arrays[HEADER] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)

    def write(tmp):
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())

    atomic_write(Path(path), write)


class Saver:
    """A ``Simulation.run`` progress callback that saves a checkpoint into ``run_dir`` every
    ``run.checkpoint_every`` years and at the end of the run, then calls ``progress``."""

    def __init__(self, sim: Simulation, run_dir: Path, progress=None):
        self.sim = sim
        self.path = path_in(run_dir)
        self.every = sim.cfg.run.checkpoint_every * MONTHS_PER_YEAR
        self.progress = progress

    def __call__(self, done: int, total: int) -> None:
        if self.every and (done % self.every == 0 or done == total):
            save(self.sim, self.path)
        if self.progress is not None:
            self.progress(done, total)


# --- reading and checking -----------------------------------------------------------------------

def _refuse(path, reason: str) -> CheckpointError:
    return CheckpointError(f"run.resume_from = '{path}': {reason}")


def _open(path: Path):
    path = Path(path)
    if not path.is_file():
        raise _refuse(path, "no such checkpoint file")
    try:
        data = np.load(path, allow_pickle=False)  # never unpickles
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        data = None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise _refuse(path, "not a readable checkpoint (not an .npz archive, or truncated)")
    try:
        header = json.loads(bytes(data[HEADER]).decode())
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        data.close()
        raise _refuse(path, f"not a readable checkpoint ({type(exc).__name__}: "
                            f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    if (not isinstance(header, dict) or header.get("format") != FORMAT
            or not set(HEADER_KEYS) <= set(header)):
        data.close()
        raise _refuse(path, f"not a checkpoint of format {FORMAT}")
    return data, header


def check(path: Path, cfg: Config) -> dict:
    """The header of the checkpoint at ``path`` if ``cfg`` may continue from it.

    Raises:
        CheckpointError: one line saying why not.
    """
    data, header = _open(path)
    data.close()
    if header.get("code_version") != code_version():
        raise _refuse(path, f"made by code version {header.get('code_version')}, this is "
                            f"{code_version()}; rerun from the start")
    items = config_items(cfg)
    saved = header.get("config", {})
    if header.get("config_hash") != config_hash(items):
        differ = sorted(k for k in set(items) | set(saved)
                        if k not in RESUMABLE and items.get(k) != saved.get(k))
        shown = "; ".join(f"{k} = {saved.get(k)!r} there, {items.get(k)!r} here"
                          for k in differ[:3])
        more = f" and {len(differ) - 3} more" if len(differ) > 3 else ""
        raise _refuse(path, f"made with another configuration ({shown}{more}); only "
                            f"{', '.join(RESUMABLE)} may differ")
    steps = cfg.run.years * MONTHS_PER_YEAR
    if header["step"] > steps:
        raise _refuse(path, f"holds {header['step']} months, more than run.years = "
                            f"{cfg.run.years} ({steps} months)")
    return header


def restore(sim: Simulation, path: Path) -> int:
    """Put the state saved at ``path`` into ``sim``, a new simulation of a matching
    configuration; return the step it continues from.

    Raises:
        CheckpointError: the file is corrupt or does not match (``sim`` is then unchanged).
    """
    header = check(path, sim.cfg)
    data, _ = _open(path)
    try:
        with data:
            arrays = {key: data[key] for key in data.files if key != HEADER}
        new_tables = {}
        for name, table in tables(sim).items():
            spec = header["tables"][name]
            if spec["fields"] != [f.name for f in table.fields]:
                raise ValueError(f"the fields of {name} differ")
            new_tables[name] = Table.from_arrays(
                table.fields, spec["n"], spec["n_industries"],
                {f: arrays[f"{name}.{f}"] for f in spec["fields"]})
        attributes = {name: _decode(header["attributes"][name], arrays) for name in SAVED}
    except (OSError, ValueError, KeyError, EOFError, TypeError, zipfile.BadZipFile) as exc:
        raise _refuse(path, f"corrupt checkpoint ({type(exc).__name__}: "
                            f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
    for name, value in {**new_tables, **attributes}.items():
        setattr(sim, name, value)
    # The record has a row per month of this run, which may be longer than the saved one's.
    step = sim.step_index
    record = sim.record
    for name in ("metrics", "east"):
        saved = getattr(record, name)
        rows = np.zeros((sim.n_steps, *saved.shape[1:]), dtype=saved.dtype)
        rows[:step] = saved[:step]
        setattr(record, name, rows)
    sim._restored()
    return step


def continue_run(sim: Simulation, job_dir: Path | None = None) -> int:
    """Continue ``sim`` from ``run.resume_from``, or else from the checkpoint a killed sweep job
    left in ``job_dir`` (an unusable one is reported and the job starts over); return the step
    the run continues from (0: from the start).

    Raises:
        CheckpointError: ``run.resume_from`` cannot be continued from.
    """
    if sim.cfg.run.resume_from:
        return restore(sim, Path(sim.cfg.run.resume_from))
    if job_dir is None or not path_in(job_dir).is_file():
        return 0
    try:
        step = restore(sim, path_in(job_dir))
    except CheckpointError as exc:
        print(f"[{Path(job_dir).name}] checkpoint not used, starting over: {exc}")
        return 0
    print(f"[{Path(job_dir).name}] resumed from its checkpoint at step {step}")
    return step
