"""TF Serving's REST API on ``--rest_api_port``.

    POST /v1/models/<name>[/versions/<v>|/labels/<l>]:predict
         {"signature_name": ..., "instances": [...]}  -> {"predictions": [...]}
         {"signature_name": ..., "inputs": {...}}     -> {"outputs": ...}
    GET  /v1/models/<name>[/versions/<v>]             -> model status
    GET  /v1/models/<name>[/versions/<v>]/metadata    -> signature_def map

Binary strings are sent as ``{"b64": "..."}``. JSON is turned into a
PredictRequest and goes through the same ServingCore as gRPC, so validation
and error messages are identical; errors are ``{"error": msg}`` with TF
Serving's HTTP status mapping.

Work per request is bounded before anything big is allocated: the predict
slot (--max_concurrent_requests) is taken before the body is read, the body
must fit --max_request_bytes (413) and hold at most --max_json_values JSON
values (counted on the raw bytes, 400), and nesting deeper than the input's
rank is a 400. Requests are served by --rest_api_num_threads threads; a
connection costs no thread until it sends something, and one silent for
--rest_api_timeout_in_ms (before its request, or on any read after) is closed.
"""

import http.server
import json
import logging
import queue
import re
import selectors
import threading
import time

import grpc
from google.protobuf import json_format
from tensorflow_serving.apis import (get_model_metadata_pb2, get_model_status_pb2,
                                     predict_pb2)

from tfembed.serving.loader import DEFAULT_SIGNATURE
from tfembed.serving.rest_json import columns, format_outputs, json_value, to_array
from tfembed.serving.status import ServingError, invalid, not_found, too_large
from tfembed.serving.tensors import to_numpy, to_proto

log = logging.getLogger("tfembed.serving")
_ROUTE = re.compile(r"^/v1/models/([^/:]+)(?:/versions/(\d+)|/labels/([^/:]+))?"
                    r"(?::(predict|classify|regress)|/(metadata))?$")
REST_TIMEOUT_SECONDS = 30.0  # TF Serving's --rest_api_timeout_in_ms default
_CHUNK = 1 << 20  # body read size: a slow body is checked against the deadline per chunk
_LINGER_SECONDS = 2.0  # unread body discarded after an early reply (closing would reset the
                       # connection, and the client might never read the 413 / 429)


def _spec(request_spec, name, version, label):
    request_spec.name = name
    if version:
        request_spec.version.value = int(version)
    elif label:
        request_spec.version_label = label


class RestHandler(http.server.BaseHTTPRequestHandler):
    core = None  # set by make_rest_server
    timeout = REST_TIMEOUT_SECONDS  # socket timeout: a stalled client frees its thread
    server_version = "tfembed-serving"
    _unread = 0  # body bytes the client announced and we have not read

    def log_message(self, fmt, *args):  # keep test and server output quiet
        pass

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def _dispatch(self, method):
        try:
            length = self._content_length() if method == "POST" else 0
            match = _ROUTE.match(self.path.split("?")[0])
            if not match:
                raise not_found(f"path: no route for {method} {self.path}")
            name, version, label, verb, meta = match.groups()
            if method == "POST" and verb == "predict":
                body = self._predict(name, version, label, length)
            elif method == "POST" and verb:
                raise ServingError(grpc.StatusCode.UNIMPLEMENTED,
                                   f"{verb} is not implemented; use :predict")
            elif method == "GET" and meta:
                body = self._metadata(name, version, label)
            elif method == "GET" and not verb:
                body = self._status(name, version, label)
            else:
                raise not_found(f"path: no route for {method} {self.path}")
            self._send(200, body)
        except ServingError as err:
            self._send(err.http_status, {"error": err.message})
        except Exception as err:  # a bug, not the client's fault
            log.exception("internal error in REST %s %s", method, self.path)
            self._send(500, {"error": f"internal error: {type(err).__name__}"})

    def _send(self, status, body):
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _content_length(self):
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            raise invalid("request: missing or bad Content-Length header")
        self._unread = length
        return length

    def _read_json(self, length, start):
        data = bytearray(length)  # one buffer of the announced size (already under the limit)
        view = memoryview(data)
        try:
            while self._unread:
                if time.monotonic() - start > self.timeout:
                    raise ServingError(grpc.StatusCode.DEADLINE_EXCEEDED, "request body: not "
                                       f"received within {self.timeout:g} s", http_status=408)
                done = length - self._unread
                got = self.rfile.readinto(view[done:done + min(self._unread, _CHUNK)])
                if not got:
                    raise invalid(f"request body: connection closed after {done} of "
                                  f"{length} bytes")
                self._unread -= got
        except TimeoutError:
            raise ServingError(grpc.StatusCode.DEADLINE_EXCEEDED, "request body: client sent "
                               f"nothing for {self.timeout:g} s", http_status=408) from None
        # Every JSON value but the first follows a ',' or opens a container: an upper bound on
        # the values json.loads would build, counted without allocating any of them.
        values = data.count(b",") + data.count(b"[") + data.count(b"{") + 1
        if values > self.core.limits.max_json_values:
            raise invalid(f"request body: up to {values} JSON values, over the limit of "
                          f"{self.core.limits.max_json_values} (--max_json_values)")
        try:
            body = json.loads(data or b"null")
        except (ValueError, RecursionError) as err:
            raise invalid(f"request body: not valid JSON ({err})") from None
        if not isinstance(body, dict):
            raise invalid("request body: expected a JSON object")
        return body

    def finish(self):
        super().finish()  # the reply is flushed
        end = time.monotonic() + _LINGER_SECONDS
        try:
            while self._unread > 0 and time.monotonic() < end:
                self.connection.settimeout(max(0.01, end - time.monotonic()))
                chunk = self.connection.recv(min(self._unread, 1 << 16))
                if not chunk:
                    break
                self._unread -= len(chunk)
        except OSError:
            pass

    def _predict(self, name, version, label, length):
        start = time.monotonic()
        if length > self.core.limits.max_request_bytes:
            raise too_large(f"request body: {length} bytes, over the limit of "
                            f"{self.core.limits.max_request_bytes} (--max_request_bytes)")
        with self.core.admission():  # before reading: a rejected body costs nothing
            body = self._read_json(length, start)
            request = predict_pb2.PredictRequest()
            _spec(request.model_spec, name, version, label)
            signature_name = body.get("signature_name") or DEFAULT_SIGNATURE
            if not isinstance(signature_name, str):
                raise invalid("signature_name: expected a string")
            request.model_spec.signature_name = signature_name
            signature = self.core.resolve(request.model_spec).signatures.get(signature_name)
            if signature is None:  # let the core produce the canonical NOT_FOUND
                return self.core.predict_admitted(request)
            values, row = columns(body, signature)
            for key, value in values.items():
                if key not in signature.inputs:  # the core names it as unexpected
                    request.inputs.get_or_create(key)
                    continue
                dtype, shape = signature.inputs[key]
                array = to_array(f"inputs['{key}']", value, dtype,
                                 None if shape is None else len(shape))
                request.inputs[key].CopyFrom(to_proto(array))
            del body, values  # the parsed JSON is not needed while the model runs
            response = self.core.predict_admitted(
                request, lambda: self.timeout - (time.monotonic() - start))
        return format_outputs({k: json_value(k, to_numpy(v))
                               for k, v in response.outputs.items()}, row)

    def _status(self, name, version, label):
        request = get_model_status_pb2.GetModelStatusRequest()
        _spec(request.model_spec, name, version, label)
        return json_format.MessageToDict(self.core.status(request),
                                         always_print_fields_with_no_presence=True,
                                         preserving_proto_field_name=True)

    def _metadata(self, name, version, label):
        request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        _spec(request.model_spec, name, version, label)
        response = self.core.metadata(request)
        sigs = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(sigs)
        return {"model_spec": json_format.MessageToDict(response.model_spec,
                                                        preserving_proto_field_name=True),
                "metadata": {"signature_def": json_format.MessageToDict(
                    sigs, preserving_proto_field_name=True)}}


class _PooledHTTPServer(http.server.HTTPServer):
    """Bounded threads however many clients connect or stall.

    An accepted connection waits for its first bytes in a selector, costing no thread, and is
    closed after `idle_seconds` of silence; once readable it is queued for one of `workers`
    threads. A client stalling mid-request holds its thread at most a socket timeout per read.
    """

    request_queue_size = 64
    max_waiting = 512  # accepted connections with nothing sent yet; more are closed at once

    def __init__(self, address, handler, workers, idle_seconds):
        super().__init__(address, handler)
        self._idle_seconds = idle_seconds
        self._waiting = selectors.DefaultSelector()
        self._lock = threading.Lock()
        self._ready = queue.SimpleQueue()
        self._closing = threading.Event()
        self._threads = [threading.Thread(target=self._watch, name="tfembed-rest-watch",
                                          daemon=True)]
        self._threads += [threading.Thread(target=self._work, name="tfembed-rest-worker",
                                           daemon=True) for _ in range(workers)]
        for thread in self._threads:
            thread.start()

    def process_request(self, request, client_address):  # the accept loop never blocks
        with self._lock:
            if len(self._waiting.get_map()) >= self.max_waiting or self._closing.is_set():
                self.shutdown_request(request)
                return
            deadline = time.monotonic() + self._idle_seconds
            self._waiting.register(request, selectors.EVENT_READ, (client_address, deadline))

    def _watch(self):
        while not self._closing.is_set():
            events = self._waiting.select(timeout=0.1)
            now = time.monotonic()
            with self._lock:
                for key, _ in events:  # sent something: a worker takes it from here
                    self._waiting.unregister(key.fileobj)
                    self._ready.put((key.fileobj, key.data[0]))
                for key in list(self._waiting.get_map().values()):
                    if key.data[1] < now:  # silent for too long
                        self._waiting.unregister(key.fileobj)
                        self.shutdown_request(key.fileobj)

    def _work(self):
        while (item := self._ready.get()) is not None:
            request, client_address = item
            try:
                self.finish_request(request, client_address)
            except Exception as err:  # e.g. the client went away mid-reply
                log.debug("REST %s: %s: %s", client_address, type(err).__name__, err)
            finally:
                self.shutdown_request(request)

    def server_close(self):
        self._closing.set()
        super().server_close()
        for _ in self._threads[1:]:
            self._ready.put(None)
        with self._lock:
            for key in list(self._waiting.get_map().values()):
                self._waiting.unregister(key.fileobj)
                self.shutdown_request(key.fileobj)


def make_rest_server(core, host, port, workers=16, timeout_seconds=REST_TIMEOUT_SECONDS):
    """A started-on-demand REST server: returns (server, thread); call thread.start().

    workers: threads serving requests; timeout_seconds: how long a connection may stay
    silent (before its request, and per socket read or write after), and the deadline of a
    predict request.
    """
    handler = type("Handler", (RestHandler,), {"core": core, "timeout": float(timeout_seconds)})
    server = _PooledHTTPServer((host, port), handler, max(1, int(workers)), float(timeout_seconds))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              name="tfembed-rest", daemon=True)
    return server, thread
