"""The topology format: model, safe loader with positions, checks and lint."""

from playground.spec.loader import Loaded, load, load_file, load_text
from playground.spec.model import Topology
from playground.spec.problem import Problem, TopologyError

__all__ = ["Loaded", "Problem", "Topology", "TopologyError", "load", "load_file", "load_text"]
