"""`tfembed.connect("http://HOST:PORT", model_name)`: the same methods over TF Serving's REST
API (`tfembed serve --rest_api_port` or `tensorflow_model_server --rest_api_port`), with the
standard library only, for clients that cannot (or would rather not) speak gRPC.

    GET  {address}/v1/models/{name}[/versions/{v}]/metadata   signatures, once at connect
    POST {address}/v1/models/{name}[/versions/{v}]:predict    {"signature_name", "inputs"}

Errors are the gRPC back end's: `ServingClientError` with the gRPC status code TF Serving's
HTTP status stands for (400 -> INVALID_ARGUMENT, which the methods turn into BadInput naming
the image; 404 NOT_FOUND; 503 and unreachable servers UNAVAILABLE, retried with backoff).
A batch whose JSON is over the server's body limit (413: b64 makes image bytes 4/3 larger)
is sent again in halves.
"""

import http.client
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request

import grpc
import numpy as np

from tfembed.api import rest_tensors as tensors
from tfembed.api.answers import BadInput
from tfembed.api.base import ServedModel
from tfembed.export import signatures as sig
from tfembed.serving.client import ServingClientError

# HTTP status -> gRPC code: the inverse of TF Serving's http_rest_api_handler mapping
_CODES = {400: grpc.StatusCode.INVALID_ARGUMENT, 404: grpc.StatusCode.NOT_FOUND,
          408: grpc.StatusCode.DEADLINE_EXCEEDED, 413: grpc.StatusCode.RESOURCE_EXHAUSTED,
          429: grpc.StatusCode.RESOURCE_EXHAUSTED, 499: grpc.StatusCode.CANCELLED,
          501: grpc.StatusCode.UNIMPLEMENTED, 503: grpc.StatusCode.UNAVAILABLE,
          504: grpc.StatusCode.DEADLINE_EXCEEDED}


class RestModel(ServedModel):
    """A model served over REST at `address` (http://HOST:PORT, or https://, optionally with a
    path prefix of a proxy in front); `version` pins one version (default: the newest)."""

    BACKEND, PROTOCOL = "rest", "REST"

    def __init__(self, address, model_name, version=None, timeout=10.0, retries=3,
                 batch_size=None, max_message_mb=None):
        # max_message_mb is gRPC's; accepted so the same options work over both protocols
        self.address, self.model_name = address.rstrip("/"), model_name
        self.timeout, self.retries = float(timeout), int(retries)
        if batch_size:
            self.batch_size = max(1, int(batch_size))
        self.where = f"model {model_name!r} at {self.address}"
        self._url = f"{self.address}/v1/models/{urllib.parse.quote(str(model_name), safe='')}"
        if version is not None:
            self._url += f"/versions/{int(version)}"
        try:
            metadata = self._call("GET", self._url + "/metadata")
            sigdefs = metadata["metadata"]["signature_def"]["signature_def"]
            self.version = int(metadata.get("model_spec", {}).get("version") or 0)
            self._specs, self._dtypes = {}, {}
            for name, sdef in sigdefs.items():
                if name.startswith("__"):  # e.g. __saved_model_init_op, not callable
                    continue
                self._specs[name] = {side: {k: tensors.shape_of(v) for k, v in
                                            sdef.get(side, {}).items()}
                                     for side in ("inputs", "outputs")}
                self._dtypes[name] = {k: (v.get("dtype"), tensors.shape_of(v))
                                      for k, v in sdef.get("outputs", {}).items()}
        except ServingClientError as err:
            raise ServingClientError(err.code, f"{self.where}: {err}") from None
        except (KeyError, TypeError, AttributeError, ValueError):
            raise ServingClientError(grpc.StatusCode.UNKNOWN, (
                f"{self.where}: GET {self._url}/metadata did not answer like TF Serving (no "
                f"metadata.signature_def.signature_def map)")) from None

    def _call(self, method, url, body=None):
        """One HTTP request -> its JSON answer; UNAVAILABLE (503, refused) is retried."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = {} if data is None else {"Content-Type": "application/json"}
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return _parse(response.read(), method, url, response.status)
            except urllib.error.HTTPError as err:
                code = _CODES.get(err.code, grpc.StatusCode.UNKNOWN)
                error = ServingClientError(code, f"HTTP {err.code} from {method} {url}: "
                                                 f"{_message(err.read())}")
                error.http_status = err.code
            except TimeoutError:  # connect or read took longer than the deadline
                raise ServingClientError(grpc.StatusCode.DEADLINE_EXCEEDED,
                                         f"{method} {url}: no answer within "
                                         f"{self.timeout:g} s") from None
            except (urllib.error.URLError, ConnectionError, http.client.HTTPException) as err:
                reason = getattr(err, "reason", err)
                if isinstance(reason, TimeoutError):
                    raise ServingClientError(grpc.StatusCode.DEADLINE_EXCEEDED,
                                             f"{method} {url}: no answer within "
                                             f"{self.timeout:g} s") from None
                error = ServingClientError(grpc.StatusCode.UNAVAILABLE,
                                           f"cannot reach {url}: {reason}")
            if error.code != grpc.StatusCode.UNAVAILABLE or attempt == self.retries:
                raise error
            time.sleep(min(2.0, 0.1 * 2 ** attempt) * (0.5 + random.random()))

    def _predict(self, name, arrays):
        outputs = self._dtypes[name]
        if _rows(arrays) == 0:
            return tensors.empty_outputs(outputs)
        body = {"signature_name": name,
                "inputs": {k: tensors.to_json(k, v) for k, v in arrays.items()}}
        try:
            answer = self._call("POST", self._url + ":predict", body)
        except ServingClientError as err:
            if err.code == grpc.StatusCode.INVALID_ARGUMENT:
                raise BadInput(str(err)) from None
            if getattr(err, "http_status", None) == 413 and _rows(arrays) > 1:
                return self._halves(name, arrays)  # b64 images grew past the body limit
            raise
        got = answer.get("outputs") if isinstance(answer, dict) else None
        if len(outputs) == 1 and got is not None:  # one output: TF Serving omits its name
            got = {next(iter(outputs)): got}
        if not isinstance(got, dict) or set(got) != set(outputs):
            raise ServingClientError(grpc.StatusCode.UNKNOWN, (
                f"{self.where}: {name} answered without the outputs {sorted(outputs)}: "
                f"{str(answer)[:200]}"))
        try:
            return {k: tensors.from_json(f"{name} output {k!r}", v, outputs[k][0])
                    for k, v in got.items()}
        except (ValueError, TypeError) as err:
            raise ServingClientError(grpc.StatusCode.UNKNOWN, f"{self.where}: {err}") from None

    def _halves(self, name, arrays):
        half = _rows(arrays) // 2
        parts = [self._predict(name, {k: v if k in sig.UNBATCHED_INPUTS else v[part]
                                      for k, v in arrays.items()})
                 for part in (slice(0, half), slice(half, None))]
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}



def _rows(arrays):
    return min((len(v) for k, v in arrays.items() if k not in sig.UNBATCHED_INPUTS), default=1)


def _message(data):
    """The server's {"error": ...} text, else the start of whatever it sent (e.g. a proxy)."""
    try:
        return str(json.loads(data)["error"])
    except (ValueError, KeyError, TypeError):
        return data[:200].decode("utf-8", "replace") or "(empty body)"


def _parse(data, method, url, status):
    try:
        return json.loads(data)
    except ValueError:
        raise ServingClientError(grpc.StatusCode.UNKNOWN, (
            f"{method} {url}: HTTP {status} but not JSON: "
            f"{data[:200].decode('utf-8', 'replace')!r}")) from None
