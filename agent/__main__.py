"""`python -m vendorscan.agent` is the vendorscan command."""
import sys

from vendorscan.agent.cli import main

if __name__ == "__main__":  # worker processes started by spawn import this module again: they must not run it
    sys.exit(main())
