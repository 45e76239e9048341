"""The stack's own ARM client, beneath the components and the teardown check.

`client`: the ARM calls on Azure's management SDKs; `cloud`: which Azure cloud they go to;
`provider`: the base of the dynamic resources that call ARM themselves.
"""
