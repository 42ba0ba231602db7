"""A real SMTP server in the test process (aiosmtpd on 127.0.0.1, random free port)."""

import asyncio
import logging
import socket
import threading
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller

logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RecordingHandler:
    """Accepts and records messages. `fail_next` answers DATA with 451 that many times;
    `stall_first` makes the first DATA hang until `release` is set (a worker killed mid-send)."""

    def __init__(self, *, fail_next: int = 0, stall_first: bool = False):
        self.messages = []
        self.fail_next = fail_next
        self.stall_first = stall_first
        self.stalled = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.stall_first:
            self.stall_first = False
            self.stalled.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 Stalled connection, not accepted"
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return "451 Try again later"
            msg = message_from_bytes(envelope.content, policy=policy.default)
            self.messages.append({"to": list(envelope.rcpt_tos), "message": msg})
        return "250 Message accepted for delivery"

    def recipients(self) -> list[str]:
        return sorted(r for m in self.messages for r in m["to"])


class SmtpServer:
    def __init__(self, handler: RecordingHandler | None = None):
        self.handler = handler or RecordingHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     server_hostname="localhost", ready_timeout=10)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.handler.release.set()
        self.controller.stop()
