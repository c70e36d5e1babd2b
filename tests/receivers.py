"""Real local HTTP receivers for the webhook tests: a threaded ``http.server`` on
127.0.0.1 that records every request (method, path, headers, body) and answers from a
script, one answer per request (the last one repeats):

    Receiver([500, 200])                      # 500 first, then 200
    Receiver([Hang(5)])                       # accepts, reads the request, never answers
    Receiver([Redirect("ftp://…")])           # 302 to that location

Used by tests/tenants/webhooks (the ``receiver`` fixture) and the browser test."""
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Hang:
    seconds: float  # longer than the sender's read timeout


@dataclass
class Redirect:
    location: str
    status: int = 302


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: bytes
    at: float = field(default_factory=time.time)


class Receiver:
    def __init__(self, answers=(200,)):
        self.answers = list(answers)
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append(Recorded("POST", self.path, dict(self.headers.items()), body))
                    answer = receiver.answers[min(len(receiver.requests), len(receiver.answers)) - 1]
                if isinstance(answer, Hang):
                    time.sleep(answer.seconds)
                    return
                if isinstance(answer, Redirect):
                    self.send_response(answer.status)
                    self.send_header("Location", answer.location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                reply = f"answer {answer}".encode()
                self.send_response(answer)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):  # quiet: the tests print what they need
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True  # a hanging answer does not hold up shutdown
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "Receiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 60.0) -> list[Recorded]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.05)
        raise AssertionError(f"{count} requests expected within {timeout}s, got {len(self.requests)}")
