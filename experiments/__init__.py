"""The researcher's workflow around ``python -m sim``: sweeps, resume, aggregation, designs.

Job directories (complete / failed / incomplete, failure records) and stable sweep directory
names are in ``sim.jobs``, since ``python -m sim`` needs them; ``experiments`` imports ``sim``,
never the other way.

Modules:
    manifest        the list of jobs a sweep should have (``sweep.json``)
    callbacks       the Hydra callback that aggregates at the end of every multirun
    aggregate       ``runs.parquet``, ``comparison.csv`` and figures of a sweep directory
    stats           means, confidence intervals and paired differences
    figures         Kaplan-Meier by arm, hazard by firm age, local jobs over time
    design          Latin hypercube and Sobol designs (SALib) run through Hydra's launcher
    launch          an explicit job list through Hydra's configured launcher
    hydra_internal  the only use of Hydra's private API (tested on hydra-core 1.3)
    ema             export of a sweep in EMA Workbench's format for PRIM
    headline        the main job: policy arms x seeds x shocks on the default world
"""
