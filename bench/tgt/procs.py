# SPDX-License-Identifier: Apache-2.0
"""Small process helpers shared by bench/tgt's runners (ours and SPDK's)."""
import os
import socket
import time


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_socket(path, seconds=10.0):
    """Wait until a target has created its JSON-RPC socket (the caller's RPCs fail if not)."""
    deadline = time.monotonic() + seconds
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)
