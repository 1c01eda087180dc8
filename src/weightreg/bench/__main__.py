import sys

from weightreg.bench.speed import main

sys.exit(main())
