"""Design-space sweeps (``snnc sweep``): a grid of compile options, each point compiled and
evaluated, cached on disk, and summarised as Pareto fronts (``grid.py``, ``run.py``,
``pareto.py``)."""

from .grid import AXES, Grid, Point, read_grid
from .pareto import front, fronts
from .run import DataSpec, PointTask, run_point

__all__ = ["AXES", "DataSpec", "Grid", "Point", "PointTask", "front", "fronts", "read_grid",
           "run_point"]
