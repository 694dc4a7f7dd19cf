"""playground: assemble cloud-style architectures from YAML, run them, watch what happens."""

__version__ = "0.1.0"
