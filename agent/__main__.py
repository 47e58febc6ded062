"""`python -m agent` is the vendorscan command."""
import sys

from agent.cli import main

sys.exit(main())
