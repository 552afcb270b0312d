"""Core of the Global 100 wallet: keys, chain, vault, index, market data, journal.

Nothing in this package imports Qt: the GUI in ``ui`` sits on top of it through the
facade, and the command line uses the same facade.
"""

__version__ = "0.1.0"
