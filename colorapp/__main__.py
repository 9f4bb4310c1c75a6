"""Start the ColorApp window: ``python -m colorapp [PHOTO ...]``."""

from colorapp.app import main

raise SystemExit(main())
