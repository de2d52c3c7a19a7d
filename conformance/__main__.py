"""`python -m conformance`: the same as the `keras-conformance` command."""

import sys

from conformance.cli import main

sys.exit(main())
