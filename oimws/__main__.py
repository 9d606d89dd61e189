import sys

from oimws.cli import main

sys.exit(main())
