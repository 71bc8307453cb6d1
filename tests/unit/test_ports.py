"""Ports of the local stack: the API's is held from the moment it is chosen."""

from __future__ import annotations

import socket

import pytest

from photoflow_local.stack import reserve_port


def test_a_reserved_port_cannot_be_taken_until_it_is_released() -> None:
    reservation = reserve_port()
    port = reservation.getsockname()[1]

    with socket.socket() as other, pytest.raises(OSError, match="in use"):
        other.bind(("127.0.0.1", port))

    reservation.close()
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        server.listen()
        assert server.getsockname()[1] == port
