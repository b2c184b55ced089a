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
"""

import http.server
import json
import logging
import re
import threading
import time

import grpc
from google.protobuf import json_format
from tensorflow_serving.apis import (get_model_metadata_pb2, get_model_status_pb2,
                                     predict_pb2)

from tfembed.serving.loader import DEFAULT_SIGNATURE
from tfembed.serving.rest_json import columns, format_outputs, json_value, to_array
from tfembed.serving.status import ServingError, exhausted, invalid, not_found
from tfembed.serving.tensors import to_numpy, to_proto

log = logging.getLogger("tfembed.serving")
_ROUTE = re.compile(r"^/v1/models/([^/:]+)(?:/versions/(\d+)|/labels/([^/:]+))?"
                    r"(?::(predict|classify|regress)|/(metadata))?$")
REST_TIMEOUT_SECONDS = 30.0  # TF Serving's --rest_api_timeout_in_ms default


def _spec(request_spec, name, version, label):
    request_spec.name = name
    if version:
        request_spec.version.value = int(version)
    elif label:
        request_spec.version_label = label


class RestHandler(http.server.BaseHTTPRequestHandler):
    core = None  # set by make_rest_server
    server_version = "tfembed-serving"

    def log_message(self, fmt, *args):  # keep test and server output quiet
        pass

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def _dispatch(self, method):
        try:
            match = _ROUTE.match(self.path.split("?")[0])
            if not match:
                raise not_found(f"path: no route for {method} {self.path}")
            name, version, label, verb, meta = match.groups()
            if method == "POST" and verb == "predict":
                body = self._predict(name, version, label)
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

    def _read_json(self):
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            raise invalid("request: missing or bad Content-Length header")
        if length > self.core.limits.max_request_bytes:
            raise exhausted(f"request: {length} bytes, over the limit of "
                            f"{self.core.limits.max_request_bytes}")
        try:
            body = json.loads(self.rfile.read(length) or b"null")
        except (ValueError, RecursionError) as err:
            raise invalid(f"request body: not valid JSON ({err})") from None
        if not isinstance(body, dict):
            raise invalid("request body: expected a JSON object")
        return body

    def _predict(self, name, version, label):
        start = time.monotonic()
        body = self._read_json()
        request = predict_pb2.PredictRequest()
        _spec(request.model_spec, name, version, label)
        signature_name = body.get("signature_name") or DEFAULT_SIGNATURE
        if not isinstance(signature_name, str):
            raise invalid("signature_name: expected a string")
        request.model_spec.signature_name = signature_name
        signature = self.core.resolve(request.model_spec).signatures.get(signature_name)
        if signature is None:  # let the core produce the canonical NOT_FOUND
            return self.core.predict(request)
        values, row = columns(body, signature)
        for key, value in values.items():
            if key not in signature.inputs:  # the core names it as unexpected
                request.inputs.get_or_create(key)
                continue
            array = to_array(f"inputs['{key}']", value, signature.inputs[key][0])
            request.inputs[key].CopyFrom(to_proto(array))
        response = self.core.predict(
            request, lambda: REST_TIMEOUT_SECONDS - (time.monotonic() - start))
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


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


def make_rest_server(core, host, port):
    """A started-on-demand REST server: returns (server, thread); call thread.start()."""
    handler = type("Handler", (RestHandler,), {"core": core})
    server = _HTTPServer((host, port), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              name="tfembed-rest", daemon=True)
    return server, thread
