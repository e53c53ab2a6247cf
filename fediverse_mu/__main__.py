"""Allow ``python -m fediverse_mu``."""

from fediverse_mu.cli import main

raise SystemExit(main())
