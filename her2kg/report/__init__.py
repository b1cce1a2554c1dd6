"""The report her2kg produces for one patient (see `model`), and its renderings."""
