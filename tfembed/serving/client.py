"""gRPC client for tfembed models behind TF Serving (or ``tfembed serve``).

    from tfembed.serving.client import Client
    with Client("localhost:8500", "tfembed") as c:
        vectors = c.embed_text(["a small bird with a red crown"])

Every call has a deadline; only UNAVAILABLE is retried (with exponential
backoff); long lists are sent in batches of ``batch_size`` and the results
concatenated. ``tfembed query ...`` (``main``) prints JSON.
"""

import argparse
import json
import os
import random
import sys
import time

import grpc
import numpy as np

from tfembed.errors import TfembedError
from tfembed.export import signatures as sig


class ServingClientError(TfembedError):
    """A failed RPC: ``code`` is the grpc.StatusCode, the message the server's."""

    def __init__(self, code, message):
        super().__init__(f"{code.name}: {message}")
        self.code = code


class Client:
    def __init__(self, target, model_name, timeout=10.0, max_message_mb=64, retries=3,
                 batch_size=64, version=None):
        from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

        limit = int(max_message_mb * (1 << 20))  # gRPC's 4 MiB default is too small for images
        self._channel = grpc.insecure_channel(target, options=[
            ("grpc.max_send_message_length", limit), ("grpc.max_receive_message_length", limit)])
        self._predict_stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        self._model_stub = model_service_pb2_grpc.ModelServiceStub(self._channel)
        self.model_name, self.version = model_name, version
        self.timeout, self.retries, self.batch_size = timeout, retries, max(1, int(batch_size))

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _rpc(self, method, request):
        for attempt in range(self.retries + 1):
            try:
                return method(request, timeout=self.timeout)
            except grpc.RpcError as err:
                code = err.code()
                if code != grpc.StatusCode.UNAVAILABLE or attempt == self.retries:
                    raise ServingClientError(code, err.details()) from None
                time.sleep(min(2.0, 0.1 * 2 ** attempt) * (0.5 + random.random()))

    def _spec(self, spec, signature=None):
        spec.name = self.model_name
        if self.version is not None:
            spec.version.value = int(self.version)
        if signature:
            spec.signature_name = signature

    def predict(self, signature, inputs):
        """One Predict call: {name: array} -> {output: np.ndarray}."""
        from tensorflow_serving.apis import predict_pb2

        from tfembed.serving.tensors import to_numpy, to_proto

        request = predict_pb2.PredictRequest()
        self._spec(request.model_spec, signature)
        for key, value in inputs.items():
            request.inputs[key].CopyFrom(to_proto(value))
        response = self._rpc(self._predict_stub.Predict, request)
        return {k: to_numpy(v) for k, v in response.outputs.items()}

    def _batched(self, signature, name, values, extra=None):
        """Split ``values`` (the batch input) into batch_size chunks; concatenate outputs."""
        values = list(values)
        parts = []
        for i in range(0, len(values), self.batch_size):
            chunk = _strings(values[i:i + self.batch_size])
            parts.append(self.predict(signature, {name: chunk, **(extra or {})}))
        if not parts:
            return {}
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    def embed_text(self, texts):
        """list of str -> float32 [N, D]."""
        return self._batched(sig.EMBED_TEXT, sig.TEXT, texts).get(sig.EMBEDDING, _empty())

    def embed_image(self, images):
        """list of encoded image bytes or file paths -> float32 [N, D]."""
        return self._batched(sig.EMBED_IMAGE, sig.IMAGE, _read_images(images)).get(
            sig.EMBEDDING, _empty())

    def classify(self, images, class_texts):
        """images (bytes or paths) x class descriptions -> float32 scores [N, C]."""
        classes = {sig.CLASS_TEXTS: _strings(class_texts)}
        return self._batched(sig.CLASSIFY, sig.IMAGE, _read_images(images), classes).get(
            sig.SCORES, _empty())

    def retrieve(self, texts):
        """list of str -> (ids: list of lists of str, scores: float32 [N, K])."""
        out = self._batched(sig.RETRIEVE, sig.TEXT, texts)
        if not out:
            return [], _empty()
        ids = [[i.decode("utf-8") for i in row] for row in out[sig.IDS]]
        return ids, out[sig.SCORES]

    def metadata(self):
        """{signature: {"inputs": {name: {dtype, shape}}, "outputs": {...}}}."""
        from tensorflow_serving.apis import get_model_metadata_pb2

        request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        self._spec(request.model_spec)
        response = self._rpc(self._predict_stub.GetModelMetadata, request)
        sigs = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(sigs)
        out = {}
        for name, sdef in sorted(sigs.signature_def.items()):
            if name.startswith("__"):
                continue
            out[name] = {side: {k: _tensor_info(v) for k, v in getattr(sdef, side).items()}
                         for side in ("inputs", "outputs")}
        return {"model": response.model_spec.name,
                "version": response.model_spec.version.value, "signatures": out}

    def status(self):
        """[{"version", "state", "error_code", "error_message"}] from GetModelStatus."""
        from tensorflow_serving.apis import get_model_status_pb2

        request = get_model_status_pb2.GetModelStatusRequest()
        self._spec(request.model_spec)
        response = self._rpc(self._model_stub.GetModelStatus, request)
        state = get_model_status_pb2.ModelVersionStatus.State.Name
        codes = {c.value[0]: c.name for c in grpc.StatusCode}
        return [{"version": s.version, "state": state(s.state),
                 "error_code": codes.get(s.status.error_code, str(s.status.error_code)),
                 "error_message": s.status.error_message} for s in response.model_version_status]


def _empty():
    return np.zeros((0, 0), np.float32)


def _strings(values):
    out = np.empty(len(values), dtype=object)
    out[:] = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in values]
    return out


def _read_images(images):
    out = []
    for image in images:
        if isinstance(image, (str, os.PathLike)):
            try:
                with open(image, "rb") as f:
                    image = f.read()
            except OSError as err:
                raise TfembedError(f"cannot read image {image}: {err.strerror}") from None
        out.append(image)
    return out


def _tensor_info(info):
    from tfembed.serving.tensors import dtype_name

    dims = None if info.tensor_shape.unknown_rank else [d.size for d in info.tensor_shape.dim]
    return {"dtype": dtype_name(info.dtype), "shape": dims}


def build_parser():
    from tfembed.cli import HelpFormatter

    p = argparse.ArgumentParser(prog="tfembed query", description=__doc__.split("\n")[0],
                                formatter_class=HelpFormatter)
    p.add_argument("--server", default="localhost:8500", help="HOST:PORT of the gRPC API")
    p.add_argument("--model", default="tfembed", help="model name")
    p.add_argument("--version", type=int, default=None, help="pin a model version (default: "
                   "the newest the server serves)")
    p.add_argument("--timeout", type=float, default=10.0, help="deadline per call, seconds")
    p.add_argument("--max_message_mb", type=float, default=64, help="gRPC message size limit")
    p.add_argument("--batch_size", type=int, default=64, help="rows per request")
    p.add_argument("--retries", type=int, default=3, help="retries on UNAVAILABLE")
    sub = p.add_subparsers(dest="what", required=True)

    def add(name, help_text):
        return sub.add_parser(name, help=help_text, formatter_class=HelpFormatter)
    add("text", "embed texts").add_argument("texts", nargs="+")
    add("image", "embed image files").add_argument("files", nargs="+")
    cls = add("classify", "zero-shot classify image files")
    cls.add_argument("files", nargs="+")
    cls.add_argument("--classes", nargs="+", required=True, help="class descriptions")
    add("retrieve", "top-K ids for text queries").add_argument("texts", nargs="+")
    add("metadata", "signatures of the served model")
    add("status", "version states of the model")
    return p


def run_query(client, args):
    """Parsed args -> JSON-able result."""
    if args.what == "text":
        return {"embeddings": client.embed_text(args.texts).tolist()}
    if args.what == "image":
        return {"embeddings": client.embed_image(args.files).tolist()}
    if args.what == "classify":
        scores = client.classify(args.files, args.classes)
        return {"classes": args.classes, "scores": scores.tolist(),
                "predictions": [args.classes[i] for i in np.argmax(scores, axis=1)]}
    if args.what == "retrieve":
        ids, scores = client.retrieve(args.texts)
        return {"results": [{"query": q, "ids": i, "scores": s}
                            for q, i, s in zip(args.texts, ids, scores.tolist())]}
    return client.metadata() if args.what == "metadata" else {"versions": client.status()}


def main(argv=None):
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        with Client(args.server, args.model, timeout=args.timeout,
                    max_message_mb=args.max_message_mb, retries=args.retries,
                    batch_size=args.batch_size, version=args.version) as client:
            print(json.dumps(run_query(client, args)))
    except TfembedError as err:
        print(f"tfembed query: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
