"""Loopback stand-ins for the clouds the stack talks to (tests only, 127.0.0.1 only).

`arm`: Azure Resource Manager, stateful, over HTTPS with a throwaway CA.
"""
