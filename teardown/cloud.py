"""The old path of `arm.cloud`: this name is that very module.

Kept for callers that still import it from here.
"""

import sys

from arm import cloud

sys.modules[__name__] = cloud
