"""`tfembed app --model EXPORT_BASE [--images DIR_OR_GLOB] [--server HOST:PORT|http://HOST:PORT]
[--port 8080]` (also `python -m tfembed.app ...`): a local web page to search, explore and
classify with an exported model.

Without `--server` the export is loaded in this process (`tfembed.load`); with it, every model
call goes to a running `tfembed serve` / TF Serving (`tfembed.connect`): over gRPC for
HOST:PORT, over REST for http(s)://HOST:PORT. The export directory is still read for its
gallery ids, metric and pictures.
"""

import argparse
import os
import socket
import sys

from tfembed.errors import TfembedError


def build_parser():
    parser = argparse.ArgumentParser(prog="tfembed app", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, metavar="EXPORT_BASE",
                        help="export directory of numbered versions (the newest is used), or "
                             "one version directory")
    parser.add_argument("--images", default=None, metavar="DIR_OR_GLOB",
                        help="gallery of image files (embedded on start, cached beside the "
                             "export) instead of the export's baked-in gallery")
    parser.add_argument("--server", default=None, metavar="HOST:PORT|URL",
                        help="tfembed serve / TF Serving: HOST:PORT of its gRPC API, or "
                             "http://HOST:PORT of its REST API (default: in process)")
    parser.add_argument("--model-name", default=None,
                        help="model name on --server (default: the export directory's name)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address the page listens on (default: localhost only)")
    parser.add_argument("--port", type=int, default=8080, help="page port (0: any free port)")
    parser.add_argument("--k", type=int, default=None,
                        help="results per search (default: the export's own top k)")
    return parser


def open_model(version_dir, server=None, model_name=None):
    """The Python API object the app is built on: in process, or a gRPC or REST connection."""
    import tfembed.api as api

    if server:
        return api.connect(server, model_name)
    return api.load(version_dir)


def make_service(args):
    from tfembed.app.service import AppService
    from tfembed.export.versions import resolve_version

    version_dir = resolve_version(args.model)
    base = args.model.rstrip("/") if version_dir != args.model.rstrip("/") else \
        os.path.dirname(version_dir)
    name = args.model_name or _served_name(base)
    model = open_model(version_dir, args.server, name)
    where = f"{_protocol(args.server)} {args.server}" if args.server else version_dir
    label = f"{name} ({where})"
    return AppService(model, version_dir, images=args.images, k=args.k, model_label=label)


def _protocol(server):
    return "REST" if server.lower().startswith(("http://", "https://")) else "gRPC"


def _served_name(base):
    """runs/reed2016/export -> reed2016 (the README's `tfembed serve --model_name`), else the
    export directory's own name."""
    base = os.path.abspath(base)
    name = os.path.basename(base)
    return os.path.basename(os.path.dirname(base)) if name == "export" else name


def serve(service, host, port):
    """Serve the page with uvicorn on an already bound socket (so --port 0 can print its port)."""
    import uvicorn

    from tfembed.app.server import create_app

    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    print(f"tfembed app: serving on http://{host}:{bound}/", flush=True)
    config = uvicorn.Config(create_app(service), log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        service = make_service(args)
    except TfembedError as err:
        print(f"tfembed app: error: {err}", file=sys.stderr)
        return 2
    except ImportError as err:
        print(f"tfembed app: error: {err} (install the app extra: pip install -e \".[app]\")",
              file=sys.stderr)
        return 2
    service.start()
    serve(service, args.host, args.port)
    return 0
