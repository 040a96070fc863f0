"""``python -m eplt.studies`` is the ``eplt`` command line (``python -m eplt`` too)."""

from .cli import main

raise SystemExit(main())
