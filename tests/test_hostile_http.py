"""The HTTP client against hostile servers and URLs (issue 16): --timeout bounds the whole
request, also against a server that sends a byte at a time; credentials in a URL are refused
without the password ever being printed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from clirun import SOURCES, built_folder, kg, refused


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory) -> Path:
    """The minimal fact file built once (so that no command of this module builds first)."""
    return built_folder(tmp_path_factory, SOURCES)


@pytest.fixture(scope="module")
def dripping() -> Iterator[str]:
    """A server on 127.0.0.1 that answers every request one byte every half second (for a
    minute at most, or until the client goes)."""
    answer = (b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
              b"Content-Length: 60\r\n\r\n" + b" " * 60)

    class Handler(BaseHTTPRequestHandler):
        def _drip(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            started = time.monotonic()
            for byte in answer:
                if time.monotonic() - started > 60:
                    return
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.5)

        do_GET = do_POST = do_PUT = _drip

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()






def test_a_dripping_endpoint_is_cut_at_the_timeout(dripping):
    started = time.monotonic()
    result = kg("query", "--sparql", "SELECT * WHERE { ?s ?p ?o }", "--endpoint",
                f"{dripping}/sparql", "--timeout", "2")
    refused(result, "no answer within 2 s")
    assert time.monotonic() - started < 20  # the server would drip for a minute


def test_a_dripping_graph_store_is_cut_at_the_timeout(dripping, build_dir):
    started = time.monotonic()
    result = kg("push", *SOURCES, "--build", str(build_dir), "--endpoint", f"{dripping}/sparql",
                "--timeout", "2")
    refused(result, "PUT", "no answer within 2 s")
    assert time.monotonic() - started < 20  # the build takes seconds, the drip a minute


@pytest.mark.parametrize("url", [
    "http://user:s3cret@127.0.0.1:9/sparql", "https://s3cret@example.org/sparql",
    "http://user:s3cret@127.0.0.1:bad/sparql",
])
@pytest.mark.parametrize("command", ["push", "query"])
def test_credentials_in_a_url_are_refused_without_printing_them(url, command, build_dir):
    args = ["--sparql", "ASK {}"] if command == "query" else []
    line = refused(kg(command, *args, *SOURCES, "--build", str(build_dir), "--endpoint", url),
                   "credentials in a URL")
    assert "s3cret" not in line and "user" not in line.split("refused")[0]
