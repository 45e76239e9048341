"""What runs after `pulumi destroy`: `check` lists what a destroy left behind.

`arm`, `cloud` and `purge` are the old paths of `arm.client`, `arm.cloud` and
`components.purge`, kept so that state and callers written before the move still load.
"""
