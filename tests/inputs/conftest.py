import io
import socket
import threading
import zlib
from http.server import BaseHTTPRequestHandler

import pytest
from PIL import Image

from tests.fakes.loopback import LoopbackFake


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def jpeg(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, **options)
    return out.getvalue()


def upload(data: bytes, name: str = "image.png") -> io.BytesIO:
    """A file for the test client's multipart encoder (it sends the name as the file name)."""
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def picture(width: int = 256, height: int = 192, seed: int = 1) -> Image.Image:
    """A busy RGB picture: every pixel differs from its neighbours, so any change shows."""
    data = bytes((x * 7 + y * 13 + seed * 31 + (x * y) % 17) % 256 for y in range(height) for x in range(width))
    grey = Image.frombytes("L", (width, height), data)
    return Image.merge("RGB", (grey, grey.rotate(90, expand=False), grey.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))


def png_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """A real PNG of width×height one-bit pixels, all zero: a few dozen kilobytes that would
    decode to 400 megapixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([1, 0, 0, 0, 0])
    compressor = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


class LoopbackListener:
    """A TCP listener on loopback that only counts the connections it receives."""

    def __init__(self) -> None:
        self.accepted = 0
        self.sockets = []
        self.port = 0
        for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            try:
                sock = socket.socket(family, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((host, self.port))
            except OSError:
                continue
            sock.listen(16)
            sock.settimeout(0.05)
            self.port = sock.getsockname()[1]
            self.sockets.append(sock)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            for sock in self.sockets:
                try:
                    conn, _ = sock.accept()
                except (TimeoutError, OSError):
                    continue
                self.accepted += 1
                conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for sock in self.sockets:
            sock.close()


@pytest.fixture
def listener():
    server = LoopbackListener()
    yield server
    server.close()


class ImageHost(LoopbackFake):
    """An image host: images, redirects, HTML, endless and slow bodies, for the URL guard."""

    def __init__(self) -> None:
        self.image = png(picture(160, 120))
        self.requests: list[str] = []
        super().__init__()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake.requests.append(self.path)
                path, _, query = self.path.partition("?")
                if path == "/image.png":
                    self._send(200, "image/png", fake.image)
                elif path == "/page.html":
                    self._send(200, "text/html", b"<html>not an image</html>")
                elif path == "/bucket/object":
                    # Object stores often serve images without an image type.
                    self._send(200, "application/octet-stream", fake.image)
                elif path == "/bucket/text":
                    self._send(200, "application/octet-stream", b"just text, not a picture")
                elif path == "/fake.png":
                    self._send(200, "image/png", b"this is text, not a PNG")
                elif path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", query.removeprefix("to="))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif path == "/loop":
                    self.send_response(302)
                    self.send_header("Location", "/loop")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif path == "/endless.png":
                    # No Content-Length: only the streaming cap can stop it.
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                    self.end_headers()
                    try:
                        for _ in range(4096):
                            self.wfile.write(b"\0" * 65536)
                    except OSError:
                        pass
                elif path == "/missing.png":
                    self._send(404, "text/plain", b"gone")
                else:
                    self._send(404, "text/plain", b"unknown")

            def _send(self, status, content_type, body):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


@pytest.fixture
def resolver(monkeypatch):
    """Names the tests make resolve to chosen addresses, through the real getaddrinfo call path."""
    real = socket.getaddrinfo
    names: dict[str, list[str]] = {}
    lookups: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name in names:
            lookups.append(name)
            answers = names[name]
            address = answers.pop(0) if len(answers) > 1 else answers[0]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
            return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    getaddrinfo.names = names
    getaddrinfo.lookups = lookups
    return getaddrinfo


@pytest.fixture
def image_host(settings, resolver):
    """The image host as ``http://cdn.example:<port>``, allow-listed (it is on loopback)."""
    host = ImageHost().start()
    resolver.names["cdn.example"] = ["127.0.0.1"]
    settings.ATELIER_URL_FETCH_ALLOWED_HOSTS = ["cdn.example"]
    host.base = host.url.replace("127.0.0.1", "cdn.example")
    yield host
    host.stop()
