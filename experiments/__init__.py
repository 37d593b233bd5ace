"""The researcher's workflow around ``python -m sim``: sweeps, resume, aggregation, designs.

Modules:
    runs       status of one job directory (complete / failed / incomplete), failure records
    naming     stable sweep directory names (resume needs the same directory on a rerun)
    manifest   the list of jobs a sweep should have (``sweep.json``)
    callbacks  the Hydra callback that aggregates at the end of every multirun
    aggregate  ``runs.parquet``, ``comparison.csv`` and figures of a sweep directory
    stats      means, confidence intervals and paired differences
    figures    Kaplan-Meier by arm, hazard by firm age, local jobs over time
    design     Latin hypercube and Sobol designs (SALib) run through Hydra's launcher
    ema        export of a sweep in EMA Workbench's format for PRIM
    headline   the main job: policy arms x seeds x shocks on the default world
"""
