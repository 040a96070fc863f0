"""``python -m eplt`` is the ``eplt`` command line."""

from eplt.studies.cli import main

raise SystemExit(main())
