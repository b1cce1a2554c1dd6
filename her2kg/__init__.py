"""her2kg: a computable knowledge base for HER2-positive breast cancer therapy.

The public surface is small and imported lazily so that the command line starts fast:

>>> import her2kg
>>> her2kg.__version__
'0.1.0'
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
