"""Entry point: `python run.py [COMMAND] ...` is the `playground` command."""

import sys

from playground.bootstrap import ensure

if __name__ == "__main__":
    ensure(sys.argv)
    from playground.cli import main

    sys.exit(main())
