"""Ports of the local stack: the API's is held from the moment it is chosen."""

from __future__ import annotations

import socket

import pytest

from photoflow_local.stack import PortTaken, reserve_port


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


def test_a_port_another_program_holds_is_refused_at_once_with_the_option_to_change() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]

        with pytest.raises(PortTaken) as taken:
            reserve_port(port=port, option="--api-port")

    assert (taken.value.port, taken.value.option) == (port, "--api-port")
    assert str(taken.value) == f"port {port} is taken by another program"
