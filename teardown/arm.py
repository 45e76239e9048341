"""The old path of `arm.client`: this name is that very module.

Kept for callers that still import it from here.
"""

import sys

from arm import client

sys.modules[__name__] = client
