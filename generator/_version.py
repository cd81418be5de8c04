"""tfgen's version, alone: nothing below the package face imports the face."""

__version__ = "0.1.0"
