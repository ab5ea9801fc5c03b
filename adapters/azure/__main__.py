"""``python -m polyfn.adapters.azure module:app``: the app's host.json on stdout, its
deployment notes on stderr."""

from .hostjson import main

raise SystemExit(main())
