"""`python -m replica [--port N]`: serve the replica in the foreground (the CLI's `replica` does this too)."""

import sys

from flows.cli import main

if __name__ == "__main__":
    sys.argv = [sys.argv[0], "replica", *sys.argv[1:]]
    main()
