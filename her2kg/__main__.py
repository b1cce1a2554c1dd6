"""`python -m her2kg` runs the command line."""

from her2kg.cli import main

raise SystemExit(main())
