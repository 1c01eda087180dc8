import sys

from weightreg.cli import main

sys.exit(main())
