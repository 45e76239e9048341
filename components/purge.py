"""Where the purge resources lived before `teardown.purge`; kept for deployed state.

Stacks deployed before the move hold, in each purge resource's state, its provider pickled by
dill as a reference to `components.purge.<Class>`; `pulumi destroy` loads it from here.
"""

from teardown.purge import (
    AML_WORKSPACE_PURGE_TYPE,
    KEY_VAULT_PURGE_TYPE,
    AmlWorkspacePurgeProvider,
    KeyVaultPurgeProvider,
)

__all__ = [
    "AML_WORKSPACE_PURGE_TYPE",
    "KEY_VAULT_PURGE_TYPE",
    "AmlWorkspacePurgeProvider",
    "KeyVaultPurgeProvider",
]
