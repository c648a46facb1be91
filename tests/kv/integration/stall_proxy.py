"""A TCP proxy whose server-to-client direction can be held back: a
replica behind its master, deterministically (the bytes held back never
arrive)."""

import socket
import threading


class StallProxy:
    """Forwards each connection to 127.0.0.1:<port> to
    127.0.0.1:<target_port> (set before the first one). hold(): bytes from
    the target are no longer forwarded (dropped, as a dead master's unsent
    ones are); close() drops every connection."""

    def __init__(self, target_port=None):
        self.target_port = target_port
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(4)
        self.port = self._listener.getsockname()[1]
        self._held = threading.Event()
        self._closed = threading.Event()
        self._socks = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def hold(self):
        self._held.set()

    def close(self):
        self._closed.set()
        with self._lock:
            socks, self._socks = self._socks + [self._listener], []
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _accept(self):
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
                server = socket.create_connection(
                    ("127.0.0.1", self.target_port))
            except OSError:
                return
            with self._lock:
                self._socks += [client, server]
            threading.Thread(target=self._pump, args=(client, server, False),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True),
                             daemon=True).start()

    def _pump(self, src, dst, holdable):
        while not self._closed.is_set():
            try:
                data = src.recv(65536)
            except OSError:
                return
            if not data:
                return
            if holdable and self._held.is_set():
                continue  # held back for good: never sent
            try:
                dst.sendall(data)
            except OSError:
                return
