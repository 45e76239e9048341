"""databricks-azureml-state: the team's Pulumi backend, run once per subscription.

Config in; state storage, the secrets key and who may use them; the login strings out.
"""

import pulumi
from pulumi_azure_native import authorization
from state_access import StateAccess, StateAccessArgs
from state_config import (
    SECRETS_KEY_NAME,
    STATE_CONTAINER,
    ConfigError,
    backend_url,
    load_config,
    resource_group_name,
    secrets_provider,
    stack_tags,
    state_names,
)
from state_key import StateKey, StateKeyArgs
from state_storage import StateStorage, StateStorageArgs

try:
    config = load_config()
except ConfigError as error:
    raise pulumi.RunError(str(error)) from None

tags = stack_tags(config)
client = authorization.get_client_config_output()
names = client.subscription_id.apply(lambda sub: state_names(config.prefix, sub))

store = StateStorage(
    "state",
    StateStorageArgs(
        resource_group_name=resource_group_name(config.prefix),
        location=config.location,
        account_name=names.apply(lambda n: n.storage_account),
        container_name=STATE_CONTAINER,
        sku=config.storage_sku,
        soft_delete_days=config.soft_delete_days,
        tags=tags,
        protect=config.protect,
    ),
)
key = StateKey(
    "secrets",
    StateKeyArgs(
        resource_group_name=store.resource_group_name,
        location=config.location,
        tenant_id=client.tenant_id,
        vault_name=names.apply(lambda n: n.key_vault),
        key_name=SECRETS_KEY_NAME,
        key_size=config.key_size,
        tags=tags,
        protect=config.protect,
    ),
)
StateAccess(
    "access",
    StateAccessArgs(
        client.subscription_id, store.container_id, key.key_id, config.principals, config.ci
    ),
)

backend = store.account_name.apply(backend_url)
pulumi.export("resourceGroupName", store.resource_group_name)
pulumi.export("storageAccountName", store.account_name)
pulumi.export("backendUrl", backend)
pulumi.export("login", backend.apply(lambda url: f"pulumi login {url}"))
pulumi.export("secretsProvider", key.key_uri_with_version.apply(secrets_provider))
