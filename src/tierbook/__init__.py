"""tierbook: customer tiering and key-customer maintenance for banks."""

__version__ = "0.1.0"
