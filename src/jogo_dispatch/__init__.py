"""jogo-dispatch: geospatial dispatch engine for police command centres."""

__version__ = "0.1.0"
