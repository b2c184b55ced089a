"""``tfembed serve``: a TF-Serving-compatible gRPC (+ REST) model server.

Flag names follow tensorflow_model_server, so the same command line (and the
same ModelServerConfig file) works here and in docker/ with the real server.

    tfembed serve --model_base_path /models/tfembed --model_name tfembed \\
        --port 8500 --rest_api_port 8501 --max_concurrent_requests 8

Python API: ``Server(...).start()`` / ``.stop()``; ``.port`` / ``.rest_port``
are the bound ports (pass 0 to pick free ones).
"""

import argparse
import concurrent.futures
import logging
import os
import signal
import sys
import threading

import grpc

from tfembed.errors import TfembedError
from tfembed.serving import config as config_mod
from tfembed.serving.config import Limits

log = logging.getLogger("tfembed.serving")
LIMIT_FLAGS = ("max_request_bytes", "max_string_bytes", "max_image_bytes", "max_image_pixels",
               "max_json_values")


class Server:
    """One process serving the configured models over gRPC and optionally REST."""

    def __init__(self, model_base_path=None, model_name="default", port=0, rest_api_port=None,
                 model_config_file=None, host="127.0.0.1", file_system_poll_wait_seconds=1.0,
                 max_concurrent_requests=8, enable_batching=False, batch_timeout_micros=2000,
                 tensorflow_intra_op_parallelism=0, tensorflow_inter_op_parallelism=0,
                 rest_api_num_threads=0, rest_api_timeout_in_ms=30000,
                 limits=None, **limit_overrides):
        self.configs = (config_mod.parse_config_file(model_config_file) if model_config_file
                        else config_mod.from_flags(model_name, model_base_path))
        self.limits = limits or Limits()
        for key, value in limit_overrides.items():  # e.g. max_batch_size=32
            if not hasattr(self.limits, key):
                raise TypeError(f"Server: unknown option {key!r}")
            setattr(self.limits, key, value)
        self.host, self.port, self.rest_port = host, port, rest_api_port
        self.poll_seconds = file_system_poll_wait_seconds
        self.max_concurrent_requests = max(1, int(max_concurrent_requests))
        self.enable_batching = enable_batching
        self.batch_timeout = batch_timeout_micros / 1e6
        self.threads = (tensorflow_intra_op_parallelism, tensorflow_inter_op_parallelism)
        # REST connections handled at once (0: as many gRPC worker threads); a client idle
        # for the timeout is disconnected, and it is also the REST predict deadline.
        self.rest_threads = int(rest_api_num_threads) or self.max_concurrent_requests + 8
        self.rest_timeout = rest_api_timeout_in_ms / 1000
        self.manager = self._grpc = self._rest = self._rest_thread = None
        self._stopped = threading.Event()

    def start(self):
        """Load models (blocking for the first poll), then open the ports."""
        _set_tf_threads(*self.threads)  # before any model runs an op
        from tfembed.serving.batching import Batcher
        from tfembed.serving.core import ServingCore
        from tfembed.serving.grpc_service import add_services
        from tfembed.serving.model_manager import ModelManager

        self.manager = ModelManager(self.configs, self.limits, self.poll_seconds)
        self.manager.start()
        batcher = (Batcher(self.limits.max_batch_size, self.batch_timeout)
                   if self.enable_batching else None)
        self.core = ServingCore(self.manager, self.limits, self.max_concurrent_requests, batcher)
        message_limit = self.limits.max_request_bytes + (1 << 20)
        # More worker threads than slots, so requests over the limit still get a
        # thread that rejects them at once; past that gRPC itself says RESOURCE_EXHAUSTED.
        workers = self.max_concurrent_requests + 8
        self._grpc = grpc.server(
            concurrent.futures.ThreadPoolExecutor(max_workers=workers,
                                                  thread_name_prefix="tfembed-grpc"),
            maximum_concurrent_rpcs=workers * 4,
            options=[("grpc.max_receive_message_length", message_limit),
                     ("grpc.max_send_message_length", 1 << 30)])
        add_services(self._grpc, self.core)
        try:
            self.port = self._grpc.add_insecure_port(f"{self.host}:{self.port}")
        except RuntimeError:
            self.port = 0
        if not self.port:
            self.manager.stop()
            raise TfembedError(f"could not bind the gRPC port on {self.host} (in use?)")
        self._grpc.start()
        if self.rest_port is not None:
            from tfembed.serving.rest import make_rest_server
            try:
                self._rest, self._rest_thread = make_rest_server(
                    self.core, self.host, self.rest_port, self.rest_threads, self.rest_timeout)
            except OSError as err:
                self.stop()
                raise TfembedError(
                    f"could not bind the REST port {self.rest_port}: {err}") from None
            self.rest_port = self._rest.server_address[1]
            self._rest_thread.start()
        log.info("serving %s: gRPC %s:%d%s", ", ".join(self.manager.model_names()), self.host,
                 self.port, f", REST {self.host}:{self.rest_port}" if self._rest else "")
        return self

    def stop(self, grace=5.0):
        """Stop accepting, let in-flight requests finish (up to ``grace`` s), unload."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self._rest is not None:
            self._rest.shutdown()
            self._rest.server_close()
        if self._grpc is not None:
            self._grpc.stop(grace).wait()
        if self.manager is not None:
            self.manager.stop()

    def wait(self):
        self._stopped.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _set_tf_threads(intra, inter):
    import tensorflow as tf

    try:
        if intra:
            tf.config.threading.set_intra_op_parallelism_threads(intra)
        if inter:
            tf.config.threading.set_inter_op_parallelism_threads(inter)
    except RuntimeError:  # TF already initialised in this process (tests): keep its pools
        log.warning("TF runtime already initialised: thread settings not applied")
    log.info("TensorFlow threads: intra_op=%d inter_op=%d (0 = TF's default)",
             tf.config.threading.get_intra_op_parallelism_threads(),
             tf.config.threading.get_inter_op_parallelism_threads())


def _bool(value):
    return str(value).lower() in ("1", "true", "yes", "on")


def build_parser():
    from tfembed.cli import HelpFormatter

    p = argparse.ArgumentParser(prog="tfembed serve", description=__doc__.split("\n")[0],
                                formatter_class=HelpFormatter)
    p.add_argument("--port", type=int, default=8500, help="gRPC port (0 = pick a free one)")
    p.add_argument("--rest_api_port", type=int, default=0, help="REST port (0 = no REST)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (0.0.0.0 for all)")
    p.add_argument("--model_name", default="default", help="name clients ask for")
    p.add_argument("--model_base_path", default=None, help="export directory of numbered "
                   "versions (or give --model_config_file)")
    p.add_argument("--model_config_file", default=None, help="ModelServerConfig text proto")
    p.add_argument("--file_system_poll_wait_seconds", type=float, default=1.0,
                   help="seconds between polls of the base paths (0 = only at start)")
    p.add_argument("--max_batch_size", type=int, default=None, help="rows per request "
                   f"(default: the batching parameters file's, else {Limits.max_batch_size})")
    p.add_argument("--max_concurrent_requests", type=int, default=8)
    p.add_argument("--tensorflow_intra_op_parallelism", type=int, default=0,
                   help="threads within an op (0 = TF's choice)")
    p.add_argument("--tensorflow_inter_op_parallelism", type=int, default=0,
                   help="ops run at once (0 = TF's choice)")
    p.add_argument("--rest_api_num_threads", type=int, default=0,
                   help="REST connections handled at once (0 = max_concurrent_requests + 8)")
    p.add_argument("--rest_api_timeout_in_ms", type=int, default=30000,
                   help="REST: disconnect a client idle this long; predict deadline")
    p.add_argument("--enable_batching", type=_bool, nargs="?", const=True, default=False,
                   help="batch concurrent requests together (default: false)")
    p.add_argument("--batching_parameters_file", default=None,
                   help="TF Serving BatchingParameters text proto (max_batch_size, "
                        "batch_timeout_micros)")
    for field in LIMIT_FLAGS:
        p.add_argument(f"--{field}", type=int, default=None,
                       help=f"per-request limit (default: {getattr(Limits, field)})")
    return p


def server_from_args(args):
    batching = (config_mod.parse_batching_parameters(args.batching_parameters_file)
                if args.batching_parameters_file else {})
    limits = {k: getattr(args, k) for k in ("max_batch_size",) + LIMIT_FLAGS
              if getattr(args, k) is not None}
    limits.setdefault("max_batch_size", batching.get("max_batch_size", Limits.max_batch_size))
    return Server(
        model_base_path=args.model_base_path, model_name=args.model_name, port=args.port,
        rest_api_port=args.rest_api_port or None,  # 0 disables REST, as in TF Serving
        model_config_file=args.model_config_file, host=args.host,
        file_system_poll_wait_seconds=args.file_system_poll_wait_seconds,
        max_concurrent_requests=args.max_concurrent_requests,
        enable_batching=args.enable_batching,
        batch_timeout_micros=batching.get("batch_timeout_micros", 2000),
        tensorflow_intra_op_parallelism=args.tensorflow_intra_op_parallelism,
        tensorflow_inter_op_parallelism=args.tensorflow_inter_op_parallelism,
        rest_api_num_threads=args.rest_api_num_threads,
        rest_api_timeout_in_ms=args.rest_api_timeout_in_ms, **limits)


def main(argv=None):
    """Run until SIGTERM/SIGINT, then drain in-flight requests and exit 0."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TF is imported: less noise
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        server = server_from_args(args).start()
    except TfembedError as err:
        print(f"tfembed serve: error: {err}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(f"tfembed serve: gRPC on {server.host}:{server.port}"
          + (f", REST on {server.host}:{server.rest_port}" if server.rest_port else ""),
          flush=True)
    while not stop.wait(0.5):  # short waits so the signal handler runs promptly
        pass
    log.info("shutting down: draining in-flight requests")
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
