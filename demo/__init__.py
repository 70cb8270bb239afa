"""The end-to-end demo behind ``make demo``.

Each capability adds one step module here, named ``step_NN_<what>.py`` with a
``run(workdir: pathlib.Path) -> None`` function that prints what a person can
check. ``python -m demo`` runs every step in name order, on data the steps
generate or that installed packages ship (never ../shared).
"""
