"""A load generator's HTTP/1.1 client: requests written as prepared bytes on loopback keep-alive sockets.

An HTTP client library costs the load generator milliseconds of CPU per request (for a 0.8 MB CDS Hooks
request, several), which on a 2-core machine it takes from the server it measures (earlier stops:
100 requests/s offered, ~50 sent). This client writes the request line and headers prepared once,
reads the status line, the headers and the body (``Content-Length`` or chunked), and keeps the
connection for the next request. Open loop: a request never waits for a connection; an idle one is
reused, else a new one is opened.
"""

from __future__ import annotations

import asyncio


class RawClient:
    """Requests to one server (``http://host:port``), with ``headers`` sent on every request."""

    def __init__(self, url: str, headers: dict[str, str] | None = None):
        host_port = url.split("://", 1)[1].rstrip("/")
        self.host, port = host_port.rsplit(":", 1)
        self.port = int(port)
        self.fixed = f"Host: {host_port}\r\n" + "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def request(self, method: str, path: str, body: bytes = b"",
                      content_type: str = "application/json") -> tuple[int, dict[str, str]]:
        """(status, response headers, lower-cased names), the body read and dropped; status 0 when the
        connection failed. A kept-alive connection the server has closed meanwhile (its idle timeout)
        answers nothing: the request is sent again once, on a new connection."""
        reused = bool(self.idle)
        connection = self.idle.pop() if reused else await asyncio.open_connection(self.host, self.port)
        reader, writer = connection
        head = f"{method} {path} HTTP/1.1\r\n{self.fixed}"
        if body or method in ("POST", "PUT", "PATCH"):
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        try:
            writer.write(head.encode() + b"\r\n")
            if body:
                writer.write(body)
            await writer.drain()
            status_line = await reader.readline()
            if not status_line and reused:
                writer.close()
                self.idle.clear()  # the others have likely timed out too
                return await self.request(method, path, body, content_type)
            status = int(status_line.split()[1])
            headers = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            if headers.get("transfer-encoding", "").lower() == "chunked":
                await _read_chunks(reader)
            else:
                await reader.readexactly(int(headers.get("content-length", "0")))
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            writer.close()
            if reused:
                self.idle.clear()
                return await self.request(method, path, body, content_type)
            return 0, {}
        if headers.get("connection", "").lower() == "close":
            writer.close()
        else:
            self.idle.append(connection)
        return status, headers

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()


async def _read_chunks(reader: asyncio.StreamReader) -> None:
    while True:
        size = int((await reader.readline()).split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while (await reader.readline()) not in (b"\r\n", b""):  # trailers
                pass
            return
        await reader.readexactly(size + 2)  # the chunk and its CRLF
