"""obook: a command-line market-depth viewer."""

__version__ = "0.1.0"
