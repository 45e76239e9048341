import sys

from tools.smoke.run import main

sys.exit(main())
