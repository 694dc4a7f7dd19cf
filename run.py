"""Entry point: `python run.py [COMMAND] ...` is the `playground` command."""

import sys

from playground.cli import main

if __name__ == "__main__":
    sys.exit(main())
