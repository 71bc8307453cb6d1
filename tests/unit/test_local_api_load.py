"""The local API under a burst of clients: every connection is taken and answered.

API Gateway takes thousands of concurrent connections; the local front end must not
refuse or reset the ones a browser page, the soak or a load test opens at once.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from photoflow_local.api import LocalApi
from photoflow_local.deploy import ApiDefinition, ApiRoute
from tests.support import poll

CLIENTS = 200


class SlowFunction:
    """Stands in for the API function: answers after a short while, as a real one does."""

    def __init__(self) -> None:
        self.bodies: list[str | None] = []

    def invoke(self, function_name: str, event: str) -> tuple[str, bool, str]:
        self.bodies.append(json.loads(event)["body"])
        time.sleep(0.05)  # the function's own work, so that clients overlap
        return json.dumps({"statusCode": 200, "body": json.loads(event)["path"]}), False, ""


@pytest.fixture
def api() -> Iterator[LocalApi]:
    definition = ApiDefinition(api_id="loadapi", logical_id="PhotosApi", stage="dev")
    definition.routes.append(ApiRoute("loadapi", "GET", "/photos/{photoId}", "ApiFunction", "NONE"))
    definition.routes.append(ApiRoute("loadapi", "POST", "/photos", "ApiFunction", "NONE"))
    front_end = LocalApi(definition, SlowFunction())  # type: ignore[arg-type]
    yield front_end
    front_end.stop()


def _connect(address: tuple[str, int]) -> socket.socket | None:
    try:
        return socket.create_connection(address, timeout=2)
    except OSError:
        return None


def test_a_burst_of_connections_is_held_until_the_server_takes_them(api: LocalApi) -> None:
    # Given 200 clients connecting at once, before the server has accepted any
    address = ("127.0.0.1", api.server.server_address[1])
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        connections = list(pool.map(lambda _: _connect(address), range(CLIENTS)))
    # Then the kernel completed every connection (none dropped, none waiting for a retry)
    connected = [c for c in connections if c is not None]
    try:
        assert len(connected) == CLIENTS
        # and once the server runs, every one of them is answered
        api.start()
        for index, connection in enumerate(connected):
            connection.sendall(
                f"GET /photos/{index} HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n".encode()
            )
        answers = [c.makefile("rb").readline() for c in connected]
        assert answers == [b"HTTP/1.1 200 OK\r\n"] * CLIENTS
    finally:
        for connection in connected:
            connection.close()


def test_200_concurrent_clients_are_all_answered(api: LocalApi) -> None:
    api.start()

    def get(index: int) -> str:
        try:
            response = requests.get(f"{api.url}/photos/{index}", timeout=60)
        except requests.ConnectionError as error:
            return f"{type(error).__name__}: {error}"
        return f"{response.status_code} {response.text}"

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        answers = list(pool.map(get, range(CLIENTS)))
    assert answers == [f"200 /photos/{i}" for i in range(CLIENTS)]


def test_a_client_that_hangs_up_mid_body_reaches_no_function(api: LocalApi) -> None:
    # Given a client that announces 1000 bytes, sends 500 and hangs up
    api.start()
    function: SlowFunction = api.lambdas  # type: ignore[assignment]
    head = b"POST /photos HTTP/1.1\r\nHost: local\r\nContent-Length: 1000\r\n\r\n"
    with socket.create_connection(("127.0.0.1", api.server.server_address[1]), timeout=5) as c:
        c.sendall(head + b"x" * 500)
    # Then the request is dropped, and the function never sees half a photo
    poll(lambda: api.dropped, lambda dropped: dropped == 1, what="the request dropped")
    assert function.bodies == []
    # while a whole request still goes through
    assert requests.post(f"{api.url}/photos", data=b"y" * 10, timeout=30).status_code == 200
    assert function.bodies == ["yyyyyyyyyy"]
