"""The old path of `components.purge`: this name is that very module.

Deployed state pickles each purge provider by its module path, and state written before the
move names `teardown.purge`: `pulumi destroy` of such a stack loads the provider from here.
"""

import sys

from components import purge

sys.modules[__name__] = purge
