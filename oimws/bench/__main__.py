import sys

from oimws.bench import main

sys.exit(main(sys.argv[1:]))
