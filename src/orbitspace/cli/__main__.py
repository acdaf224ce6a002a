import sys

from orbitspace.cli import main

sys.exit(main())
