"""A fake ComfyUI server on 127.0.0.1: HTTP routes and the ``/ws`` websocket (PROTOCOLS.md §5).

It queues submitted API-format graphs and executes them one at a time on a worker thread, as
ComfyUI does, sending the real event sequence to the socket of the prompt's ``client_id``:
``execution_start``, ``execution_cached``, ``executing`` per node, ``progress`` per sampler
step, ``executed`` for the save node, ``execution_success``, then ``executing`` with
``node: null`` once the history is written (queue changes are broadcast as ``status``). The
save node writes PNGs of the size and batch of the graph's ``EmptyLatentImage``, served by
``/view``. During its steps the sampler also sends binary preview frames, as ComfyUI launched
with ``--preview-method`` does (``previews = False`` is a server launched without): a JPEG of
the latent's size (an eighth of the image's) that grows lighter step by step (green: the seed),
``PREVIEW_IMAGE_WITH_METADATA`` (type 4, naming the prompt) to a socket whose first message
announced ``supports_preview_metadata`` (the server then answers with its own ``feature_flags``),
a plain ``PREVIEW_IMAGE`` (type 1) to any other. ``/interrupt`` stops the running prompt (only
the named one when the body carries a ``prompt_id``), ``POST /queue {"delete": [...]}`` drops
pending ones.

Failures: a checkpoint other than ``CHECKPOINTS`` is refused by validation (400 with node
errors, as ComfyUI does); ``fail_next(kind)`` makes the next ``POST /prompt`` answer
``node_errors`` (400), ``500`` or ``garbage`` (200 that is not JSON), or queue a prompt that
raises ``execution_error`` in the sampler; ``history_failures = n`` makes the next n history
reads answer 500; ``hold()`` makes the sampler wait (before its first step, or after a few)
until ``release()`` (a slow server); ``step_delay`` slows every step; ``restart()`` forgets
every prompt, as a restarted server does. Unreachable is a URL nothing listens on.
The websocket speaks RFC 6455 through the ``websockets`` library's sans-I/O protocol.

Run alone (the start-command tests do): ``python -m tests.fakes.comfyui --port N``.
"""

import argparse
import io
import json
import struct
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from PIL import Image, ImageDraw
from websockets.server import ServerProtocol

from tests.fakes.loopback import LoopbackFake

CHECKPOINTS = ("v1-5-pruned-emaonly.safetensors", "sd_xl_base_1.0.safetensors")


class _Socket:
    def __init__(self, protocol: ServerProtocol, connection) -> None:
        self.protocol = protocol
        self.connection = connection
        self.lock = threading.Lock()
        self.open = True
        # What the client's first message announced (ComfyUI reads flags from it only).
        self.feature_flags: dict = {}
        self.first_message = True

    def flush(self) -> None:
        data = b"".join(self.protocol.data_to_send())
        if data:
            self.connection.sendall(data)

    def send(self, message: dict) -> None:
        with self.lock:
            if not self.open:
                return
            try:
                self.protocol.send_text(json.dumps(message).encode())
                self.flush()
            except OSError:
                self.open = False

    def send_bytes(self, data: bytes) -> None:
        with self.lock:
            if not self.open:
                return
            try:
                self.protocol.send_binary(data)
                self.flush()
            except OSError:
                self.open = False

    def close(self) -> None:
        with self.lock:
            self.open = False
            try:
                self.connection.close()
            except OSError:
                pass


class _Interrupted(Exception):
    pass


class _Failed(Exception):
    pass


class FakeComfyUI(LoopbackFake):
    def __init__(self, *, step_delay: float = 0.0, port: int = 0) -> None:
        self.step_delay = step_delay
        # Whether the sampler sends preview frames (ComfyUI's --preview-method other than none).
        self.previews = True
        # False: a server from before feature flags, which ignores them and sends type 1 frames.
        self.knows_feature_flags = True
        # The preview frames sent: (client id, frame type, prompt id, step).
        self.previews_sent: list[tuple[str, int, str, int]] = []
        self.prompts: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self.interrupts: list[dict] = []
        self.queue_deletes: list[str] = []
        self.events: list[tuple[str, str, dict]] = []
        self.history: dict[str, dict] = {}
        # How many of the next GET /history/{id} answer 500 (a server that errors for a while).
        self.history_failures = 0
        self.files: dict[str, bytes] = {}
        self._sockets: dict[str, _Socket] = {}
        self._pending: list[list] = []
        self._running: list | None = None
        self._number = 0
        self._cond = threading.Condition()
        self._gate = threading.Event()
        self._gate.set()
        self._hold_after = 0
        self._restarting = False
        self._interrupt = threading.Event()
        self._stopping = False
        self._current: str | None = None
        self.started = threading.Event()
        self._worker = threading.Thread(target=self._work, daemon=True)
        super().__init__(port=port)

    def start(self):
        super().start()
        self._worker.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._gate.set()
        for socket in list(self._sockets.values()):
            socket.close()
        super().stop()

    def hold(self, *, after_steps: int = 0) -> None:
        """Makes the sampler wait after its first ``after_steps`` steps until ``release()``."""
        self._hold_after = after_steps
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    def restart(self) -> None:
        """Forgets the queue, the running prompt and the history, as a restarted server would."""
        with self._cond:
            self._pending.clear()
            self._restarting = True
        self.history.clear()
        self._interrupt.set()
        self._gate.set()

    def sent(self, event_type: str) -> list[dict]:
        return [data for _client, kind, data in self.events if kind == event_type]

    @property
    def running_id(self) -> str | None:
        with self._cond:
            return self._running[1] if self._running else None

    @property
    def pending_ids(self) -> list[str]:
        with self._cond:
            return [item[1] for item in self._pending]

    # The events a prompt's client receives.

    def _emit(self, client_id: str | None, event_type: str, data: dict) -> None:
        self.events.append((client_id or "*", event_type, data))
        message = {"type": event_type, "data": data}
        targets = list(self._sockets.values()) if client_id is None else [self._sockets.get(client_id)]
        for socket in targets:
            if socket is not None:
                socket.send(message)

    def _broadcast_status(self) -> None:
        with self._cond:
            remaining = len(self._pending) + (1 if self._running else 0)
        self._emit(None, "status", {"status": {"exec_info": {"queue_remaining": remaining}}})

    # Submission and validation.

    def _validate(self, graph) -> dict:
        errors = {}
        if not isinstance(graph, dict) or not graph:
            return {"_": {"errors": [{"type": "no_prompt", "message": "No prompt provided"}]}}
        for node_id, node in graph.items():
            if node.get("class_type") == "CheckpointLoaderSimple":
                name = node.get("inputs", {}).get("ckpt_name")
                if name not in CHECKPOINTS:
                    errors[node_id] = {
                        "errors": [
                            {
                                "type": "value_not_in_list",
                                "message": "Value not in list",
                                "details": f"ckpt_name: '{name}' not in {list(CHECKPOINTS)}",
                                "extra_info": {"input_name": "ckpt_name"},
                            }
                        ],
                        "dependent_outputs": ["9"],
                        "class_type": "CheckpointLoaderSimple",
                    }
        return errors

    def _submit(self, body: dict) -> tuple[int, dict]:
        failure = self._next_failure()
        if failure == "500":
            return 500, {"error": "Internal Server Error"}
        if failure == "garbage":
            return 200, b"<html>not json</html>"
        graph = body.get("prompt")
        node_errors = self._validate(graph)
        if failure == "node_errors" and not node_errors:
            node_errors = {
                "5": {
                    "errors": [
                        {
                            "type": "value_bigger_than_max",
                            "message": "Value bigger than max",
                            "details": "width: 16384 > 16384",
                            "extra_info": {"input_name": "width"},
                        }
                    ],
                    "dependent_outputs": ["9"],
                    "class_type": "EmptyLatentImage",
                }
            }
        if node_errors:
            error = {
                "type": "prompt_outputs_failed_validation",
                "message": "Prompt outputs failed validation",
                "details": "",
                "extra_info": {},
            }
            return 400, {"error": error, "node_errors": node_errors}
        prompt_id = str(uuid.uuid4())
        extra = {"client_id": body.get("client_id"), "fail": failure == "execution_error"}
        with self._cond:
            number = self._number
            self._number += 1
            self._pending.append([number, prompt_id, graph, extra, ["9"]])
            self._cond.notify_all()
        self.prompts.append(body)
        self._broadcast_status()
        return 200, {"prompt_id": prompt_id, "number": number, "node_errors": {}}

    def _interrupt_request(self, body: dict) -> None:
        self.interrupts.append(body)
        with self._cond:
            running = self._running[1] if self._running else None
        if running and body.get("prompt_id") in (None, running):
            self._interrupt.set()

    def _delete(self, body: dict) -> None:
        with self._cond:
            if body.get("clear"):
                self._pending.clear()
            for prompt_id in body.get("delete") or []:
                self.queue_deletes.append(prompt_id)
                self._pending = [item for item in self._pending if item[1] != prompt_id]

    def _queue(self) -> dict:
        with self._cond:
            running = [self._public(self._running)] if self._running else []
            return {"queue_running": running, "queue_pending": [self._public(item) for item in self._pending]}

    @staticmethod
    def _public(item: list) -> list:
        number, prompt_id, graph, extra, outputs = item
        return [number, prompt_id, graph, {"client_id": extra["client_id"]}, outputs]

    # Execution, one prompt at a time.

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                self._running = self._pending.pop(0)
                self._interrupt.clear()
            item = self._running
            try:
                self._execute(item)
            finally:
                with self._cond:
                    self._running = None
                    restarted, self._restarting = self._restarting, False
            if restarted:
                self.history.pop(item[1], None)
                continue
            self._broadcast_status()
            # ComfyUI's classic "prompt finished" signal, sent once the history is written.
            self._emit(item[3]["client_id"], "executing", {"node": None, "prompt_id": item[1]})

    def _execute(self, item: list) -> None:
        _number, prompt_id, graph, extra, _outputs = item
        client = extra["client_id"]
        messages = []

        def status(kind: str, data: dict) -> None:
            data = {"prompt_id": prompt_id, "timestamp": int(time.time() * 1000), **data}
            messages.append([kind, data])
            self._emit(client, kind, data)

        self.started.set()
        status("execution_start", {})
        status("execution_cached", {"nodes": []})
        outputs, executed = {}, []
        try:
            for node_id in _order(graph):
                node = graph[node_id]
                self._emit(client, "executing", {"node": node_id, "display_node": node_id, "prompt_id": prompt_id})
                if node["class_type"] == "KSampler":
                    self._sample(node_id, node, graph=graph, prompt_id=prompt_id, client=client, fail=extra["fail"])
                if node["class_type"] == "SaveImage":
                    images = self._save(graph, prefix=node["inputs"].get("filename_prefix", "ComfyUI"))
                    outputs[node_id] = {"images": images}
                    output = {"images": images}
                    self._emit(
                        client,
                        "executed",
                        {"node": node_id, "display_node": node_id, "output": output, "prompt_id": prompt_id},
                    )
                executed.append(node_id)
        except _Interrupted:
            node = graph.get(self._current, {})
            status(
                "execution_interrupted",
                {"node_id": self._current, "node_type": node.get("class_type"), "executed": executed},
            )
            self._record(prompt_id, graph, extra, {}, messages, status_str="error", completed=False)
            return
        except _Failed as exc:
            node = graph.get(self._current, {})
            status(
                "execution_error",
                {
                    "node_id": self._current,
                    "node_type": node.get("class_type"),
                    "executed": executed,
                    "exception_message": str(exc),
                    "exception_type": "torch.OutOfMemoryError",
                    "traceback": ["Traceback (most recent call last):\n", f"torch.OutOfMemoryError: {exc}\n"],
                    "current_inputs": {},
                    "current_outputs": {},
                },
            )
            self._record(prompt_id, graph, extra, {}, messages, status_str="error", completed=False)
            return
        status("execution_success", {})
        self._record(prompt_id, graph, extra, outputs, messages, status_str="success", completed=True)

    def _sample(self, node_id: str, node: dict, *, graph: dict, prompt_id: str, client: str, fail: bool) -> None:
        self._current = node_id
        steps = int(node["inputs"].get("steps", 20))
        for step in range(1, steps + 1):
            if step > self._hold_after:
                self._gate.wait()
            if self._interrupt.is_set():
                raise _Interrupted
            if fail and step > steps // 2:
                raise _Failed("Allocation on device 0 would exceed allowed memory. (out of memory)")
            if self.step_delay:
                time.sleep(self.step_delay)
            self._emit(client, "progress", {"value": step, "max": steps, "prompt_id": prompt_id, "node": node_id})
            if self.previews:
                self._send_preview(client, graph=graph, prompt_id=prompt_id, node_id=node_id, step=step, steps=steps)

    def _send_preview(self, client: str, *, graph: dict, prompt_id: str, node_id: str, step: int, steps: int) -> None:
        """One sampler preview, framed as ComfyUI's server.py frames it for this client's socket."""
        socket = self._sockets.get(client)
        if socket is None:
            return
        latent = next((n for n in graph.values() if n["class_type"] == "EmptyLatentImage"), {"inputs": {}})
        width = max(8, int(latent["inputs"].get("width", 512)) // 8)
        height = max(8, int(latent["inputs"].get("height", 512)) // 8)
        shade = 40 + 200 * step // steps
        seed = next((int(n["inputs"].get("seed", 0)) for n in graph.values() if n["class_type"] == "KSampler"), 0)
        buffer = io.BytesIO()
        Image.new("RGB", (width, height), (shade, seed % 256, 255 - shade)).save(buffer, format="JPEG", quality=95)
        image = buffer.getvalue()
        if socket.feature_flags.get("supports_preview_metadata") is True:
            metadata = json.dumps(
                {
                    "node_id": node_id,
                    "prompt_id": prompt_id,
                    "display_node_id": node_id,
                    "parent_node_id": None,
                    "real_node_id": node_id,
                    "image_type": "image/jpeg",
                }
            ).encode()
            frame = struct.pack(">I", 4) + struct.pack(">I", len(metadata)) + metadata + image
            kind = 4
        else:
            frame = struct.pack(">I", 1) + struct.pack(">I", 1) + image
            kind = 1
        self.previews_sent.append((client, kind, prompt_id, step))
        socket.send_bytes(frame)

    def _save(self, graph: dict, *, prefix: str) -> list[dict]:
        latent = next((n for n in graph.values() if n["class_type"] == "EmptyLatentImage"), {"inputs": {}})
        width, height = int(latent["inputs"].get("width", 512)), int(latent["inputs"].get("height", 512))
        seed = next((int(n["inputs"].get("seed", 0)) for n in graph.values() if n["class_type"] == "KSampler"), 0)
        images = []
        for index in range(int(latent["inputs"].get("batch_size", 1))):
            image = Image.new("RGB", (width, height), ((seed + 40 * index) % 256, 90, 160))
            ImageDraw.Draw(image).rectangle((0, 0, width // 4, height // 4), fill=(240, 240, 240))
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            name = f"{prefix}_{len(self.files) + 1:05d}_.png"
            self.files[name] = buffer.getvalue()
            images.append({"filename": name, "subfolder": "", "type": "output"})
        return images

    def _record(self, prompt_id, graph, extra, outputs, messages, *, status_str: str, completed: bool) -> None:
        with self._cond:
            number = self._running[0] if self._running else 0
        self.history[prompt_id] = {
            "prompt": [number, prompt_id, graph, {"client_id": extra["client_id"]}, ["9"]],
            "outputs": outputs,
            "status": {"status_str": status_str, "completed": completed, "messages": messages},
            "meta": {node: {"node_id": node, "display_node": node} for node in outputs},
        }

    def _system_stats(self) -> dict:
        return {
            "system": {
                "os": "posix",
                "ram_total": 34359738368,
                "ram_free": 20000000000,
                "comfyui_version": "0.3.40",
                "python_version": "3.12.3",
                "pytorch_version": "2.7.0+cu126",
                "embedded_python": False,
                "argv": ["main.py", "--listen", "127.0.0.1"],
            },
            "devices": [
                {
                    "name": "cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync",
                    "type": "cuda",
                    "index": 0,
                    "vram_total": 25393692672,
                    "vram_free": 23800000000,
                    "torch_vram_total": 0,
                    "torch_vram_free": 0,
                }
            ],
        }

    # HTTP and the websocket upgrade.

    def _serve_socket(self, handler, client_id: str) -> None:
        protocol = ServerProtocol()
        # http.server has read the handshake request already: hand its bytes to the protocol,
        # whose parser expects to see the request before any frame.
        head = "".join(f"{name}: {value}\r\n" for name, value in handler.headers.items())
        protocol.receive_data(f"GET {handler.path} HTTP/1.1\r\n{head}\r\n".encode("latin-1"))
        [request] = protocol.events_received()
        response = protocol.accept(request)
        protocol.send_response(response)
        socket = _Socket(protocol, handler.connection)
        with socket.lock:
            socket.flush()
        handler.close_connection = True
        if response.status_code != 101:
            return
        previous = self._sockets.get(client_id)
        if previous is not None:
            previous.close()
        self._sockets[client_id] = socket
        with self._cond:
            remaining = len(self._pending) + (1 if self._running else 0)
        socket.send(
            {"type": "status", "data": {"status": {"exec_info": {"queue_remaining": remaining}}, "sid": client_id}}
        )
        try:
            while socket.open:
                data = handler.connection.recv(65536)
                with socket.lock:
                    if not data:
                        protocol.receive_eof()
                    else:
                        protocol.receive_data(data)
                    frames = protocol.events_received()
                    socket.flush()
                for frame in frames:
                    self._client_message(socket, frame)
                if not data or protocol.close_expected():
                    break
        except OSError:
            pass
        finally:
            socket.open = False
            if self._sockets.get(client_id) is socket:
                del self._sockets[client_id]

    def _client_message(self, socket: _Socket, frame) -> None:
        """A message from the client: ComfyUI reads ``feature_flags`` from the first one only,
        and answers with its own."""
        from websockets.frames import Opcode

        if frame.opcode != Opcode.TEXT:
            return
        first, socket.first_message = socket.first_message, False
        try:
            message = json.loads(frame.data)
        except ValueError:
            return
        if first and self.knows_feature_flags and isinstance(message, dict) and message.get("type") == "feature_flags":
            socket.feature_flags = message.get("data") or {}
            socket.send(
                {"type": "feature_flags", "data": {"supports_preview_metadata": True, "max_upload_size": 104857600}}
            )

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, payload, content_type: str = "application/json") -> None:
                body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _route(self) -> tuple[str, dict]:
                parts = urlsplit(self.path)
                path = parts.path[4:] if parts.path.startswith("/api/") else parts.path
                fake.requests.append((self.command, path))
                return path, {key: values[0] for key, values in parse_qs(parts.query).items()}

            def _body(self) -> dict:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}") if length else {}
                except ValueError:
                    return {}
                return body if isinstance(body, dict) else {}

            def do_GET(self):  # noqa: N802 - the http.server API
                path, query = self._route()
                if path == "/ws" and self.headers.get("Upgrade", "").lower() == "websocket":
                    fake._serve_socket(self, query.get("clientId") or uuid.uuid4().hex)
                elif path == "/system_stats":
                    self._send(200, fake._system_stats())
                elif path == "/prompt":
                    self._send(200, {"exec_info": {"queue_remaining": len(fake.pending_ids) + bool(fake.running_id)}})
                elif path == "/queue":
                    self._send(200, fake._queue())
                elif path == "/history":
                    self._send(200, dict(fake.history))
                elif path.startswith("/history/") and fake.history_failures > 0:
                    fake.history_failures -= 1
                    self._send(500, b"500 Internal Server Error", "text/plain")
                elif path.startswith("/history/"):
                    prompt_id = path.split("/", 2)[2]
                    entry = fake.history.get(prompt_id)
                    self._send(200, {prompt_id: entry} if entry else {})
                elif path == "/view":
                    data = fake.files.get(query.get("filename", ""))
                    if query.get("type", "output") != "output" or query.get("subfolder") or data is None:
                        self._send(404, b"404: Not Found", "text/plain")
                    else:
                        self._send(200, data, "image/png")
                elif path == "/object_info":
                    self._send(200, {name: {"input": {"required": {}}} for name in _CLASS_TYPES})
                else:
                    self._send(404, b"404: Not Found", "text/plain")

            def do_POST(self):  # noqa: N802 - the http.server API
                path, _query = self._route()
                body = self._body()
                if path == "/prompt":
                    self._send(*fake._submit(body))
                elif path == "/interrupt":
                    fake._interrupt_request(body)
                    self._send(200, b"", "text/plain")
                elif path == "/queue":
                    fake._delete(body)
                    self._send(200, b"", "text/plain")
                else:
                    self._send(404, b"404: Not Found", "text/plain")

            def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
                pass

        return Handler


_CLASS_TYPES = ("CheckpointLoaderSimple", "CLIPTextEncode", "EmptyLatentImage", "KSampler", "VAEDecode", "SaveImage")


def _order(graph: dict) -> list[str]:
    """Node ids with every node after the nodes its inputs link to."""
    done: list[str] = []

    def visit(node_id: str) -> None:
        if node_id in done or node_id not in graph:
            return
        for value in graph[node_id].get("inputs", {}).values():
            if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
                visit(value[0])
        done.append(node_id)

    for node_id in graph:
        visit(node_id)
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    fake = FakeComfyUI(port=args.port).start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
