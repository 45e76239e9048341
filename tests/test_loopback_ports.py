"""Ports for servers that bind late stay clear of what parallel tests take meanwhile."""

from __future__ import annotations

import socket

from tests.fakecloud.local_mlflow import ephemeral_ports, free_port


def test_a_late_binding_server_gets_a_free_port_outside_the_ephemeral_range() -> None:
    port = free_port()
    assert port not in ephemeral_ports()
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))


def test_a_port_zero_bind_never_lands_on_a_chosen_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        assert probe.getsockname()[1] in ephemeral_ports()
