"""A local Socket Mode server: the websocket end of Slack's Socket Mode, on 127.0.0.1.

Hand its :attr:`SocketModeServer.url` out through ``apps.connections.open`` (for example with
``SlackStandIn.on``), then push envelopes with :meth:`SocketModeServer.push` and read the acks.

Enough of RFC 6455 for slack_sdk's built-in client: the HTTP upgrade, unmasked text frames from
the server, masked frames from the client (text, ping, pong, close). Each accepted connection
gets ``hello`` first, as Slack sends it; tests then push envelopes and read the acks.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import queue
import socket
import struct
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from bot.harness import wire

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x8, 0x9, 0xA


@dataclass
class Connection:
    """One client connection: send JSON frames, read what the client sent."""

    sock: socket.socket
    received: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    open: bool = True
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send_json(self, message: dict[str, Any]) -> None:
        data = json.dumps(message).encode()
        header = bytes([0x80 | OP_TEXT])
        if len(data) < 126:
            header += bytes([len(data)])
        elif len(data) < 65536:
            header += bytes([126]) + struct.pack("!H", len(data))
        else:
            header += bytes([127]) + struct.pack("!Q", len(data))
        with self.lock:
            self.sock.sendall(header + data)

    def send_control(self, opcode: int, payload: bytes = b"") -> None:
        with self.lock:
            self.sock.sendall(bytes([0x80 | opcode, len(payload)]) + payload)


class SocketModeServer:
    """Accepts websocket connections; ``url`` is what ``apps.connections.open`` returns."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.connections: list[Connection] = []
        self._accepted = threading.Condition()
        self._stopped = False

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link/?ticket={uuid.uuid4()}&app_id={wire.API_APP_ID}"

    def start(self) -> SocketModeServer:
        threading.Thread(target=self._accept_loop, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopped = True
        self._listener.close()
        for conn in self.connections:
            conn.open = False
            with contextlib.suppress(OSError):
                conn.sock.close()

    def __enter__(self) -> SocketModeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for_connection(self, count: int, timeout: float = 15.0) -> Connection:
        """The ``count``-th connection (1-based), once the client has opened it."""
        with self._accepted:
            if not self._accepted.wait_for(lambda: len(self.connections) >= count, timeout):
                raise AssertionError(f"no Socket Mode connection #{count} within {timeout}s")
            return self.connections[count - 1]

    def push(self, conn: Connection, kind: str, payload: dict[str, Any], **extra: Any) -> str:
        """Send an envelope as Slack does; return its ``envelope_id``."""
        envelope = wire.socket_mode_envelope(kind, payload, **extra)
        conn.send_json(envelope)
        return str(envelope["envelope_id"])

    @staticmethod
    def ack_for(conn: Connection, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """The client's acknowledgement of one envelope."""
        while True:
            message = conn.received.get(timeout=timeout)
            if message.get("envelope_id") == envelope_id:
                return message

    # --- the protocol ---------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stopped:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = sock.recv(4096)
            if not chunk:
                sock.close()
                return
            request += chunk
        key = next(
            line.split(b":", 1)[1].strip()
            for line in request.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        accept = base64.b64encode(hashlib.sha1(key + GUID.encode()).digest()).decode()
        sock.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        conn = Connection(sock)
        conn.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "applink-local", "approximate_connection_time": 18060},
                "connection_info": {"app_id": wire.API_APP_ID},
            }
        )
        with self._accepted:
            self.connections.append(conn)
            self._accepted.notify_all()
        self._read_loop(conn)

    def _read_loop(self, conn: Connection) -> None:
        try:
            while conn.open:
                opcode, payload = self._read_frame(conn.sock)
                if opcode == OP_TEXT:
                    conn.received.put(json.loads(payload))
                elif opcode == OP_PING:
                    conn.send_control(OP_PONG, payload[:125])
                elif opcode == OP_CLOSE:
                    conn.open = False
        except (OSError, ConnectionError, ValueError):
            conn.open = False

    @staticmethod
    def _read_exact(sock: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def _read_frame(self, sock: socket.socket) -> tuple[int, bytes]:
        first, second = self._read_exact(sock, 2)
        opcode, length = first & 0x0F, second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._read_exact(sock, 2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._read_exact(sock, 8))[0]
        mask = self._read_exact(sock, 4) if second & 0x80 else b"\0\0\0\0"
        data = self._read_exact(sock, length)
        return opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(data))
