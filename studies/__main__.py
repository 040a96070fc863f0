"""``python -m studies`` is the ``eplt`` command line."""

from .cli import main

raise SystemExit(main())
