"""vendorscan: audit scanner for personal data and over-broad access at IT suppliers."""

__version__ = "0.1.0"
