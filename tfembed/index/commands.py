"""`tfembed index build` and `tfembed search`."""

import argparse
import json
import os

from tfembed.errors import ConfigError
from tfembed.export.versions import resolve_version
from tfembed.index import gallery_index, model_files
from tfembed.index.query_encoder import QueryEncoder, flat


def _dir_bytes(directory):
    return sum(os.path.getsize(os.path.join(directory, f)) for f in os.listdir(directory))


def build(args, params):
    version = resolve_version(args.model) if args.model else None
    if version is None and not (args.embeddings and args.out and args.metric):
        raise ConfigError("without --model, pass --embeddings, --out and --metric")
    metric = model_files.model_metric(version, args.metric) if version else args.metric
    if args.embeddings:
        from tfembed.data.embeddings_file import read_embeddings
        ids, embeddings = read_embeddings(args.embeddings)
    else:
        ids, embeddings = model_files.export_gallery(version)
    k = args.k or (model_files.serving_info(version).get("top_k") if version else None) or 10
    index = gallery_index.build(ids, flat(embeddings), metric, backend=args.backend,
                                params=params, k=k, rerank=args.rerank,
                                model=os.path.abspath(version) if version else None)
    out = args.out or model_files.index_dir(version)
    index.save(out)
    return {"index": out, "backend": args.backend, "params": index.meta["params"],
            "metric": metric, "count": index.meta["count"], "dim": index.meta["dim"],
            "build_seconds": index.meta["build_seconds"], "bytes_on_disk": _dir_bytes(out)}


def _locate(args):
    """(index dir, model version dir) from --index / --model, each defaulting to the other."""
    version = resolve_version(args.model) if args.model else None
    index_dir = args.index or (model_files.index_dir(version) if version else None)
    if index_dir is None:
        raise ConfigError("pass --model (an export with an index) or --index")
    index = gallery_index.load(index_dir)
    if version is None:  # the version the index sits in, else the one it recorded
        inside = os.path.dirname(os.path.dirname(os.path.abspath(index_dir)))
        on_disk = os.path.isfile(os.path.join(inside, "saved_model.pb"))
        version = inside if on_disk else index.meta.get("model")
        if not version or not os.path.isdir(version):
            raise ConfigError(f"{index_dir}: the model it was built from ({version}) is not "
                              f"there; pass --model to embed the queries")
    return index, version


def search(args):
    if not (args.text or args.image):
        raise ConfigError("nothing to search for: give query texts and/or --image files")
    index, version = _locate(args)
    encoder = QueryEncoder(version)
    queries, embeddings = [], []
    if args.text:
        queries += list(args.text)
        embeddings.append(flat(encoder.embed_text(args.text)))
    if args.image:
        queries += list(args.image)
        embeddings.append(flat(encoder.embed_image_files(args.image)))
    import numpy as np

    ids, scores = index.search(np.concatenate(embeddings), k=args.k, rerank=args.rerank)
    return [{"query": q, "results": [{"id": i, "score": round(float(s), 6)}
                                     for i, s in zip(row_ids, row_scores) if i]}
            for q, row_ids, row_scores in zip(queries, ids, scores)]


def _at_least(low):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}")
        return value
    return parse


def add_parsers(sub, parse_overrides):
    from tfembed.cli import HelpFormatter

    index_p = sub.add_parser("index", formatter_class=HelpFormatter,
                             help="gallery indexes (faiss / hnswlib) beside an export")
    index_sub = index_p.add_subparsers(dest="index_command", required=True)
    b = index_sub.add_parser("build", formatter_class=HelpFormatter,
                             help="build an index of gallery embeddings; by default into "
                             "MODEL/<version>/assets.extra/gallery_index")
    b.add_argument("--model", help="export directory (newest version) or a version directory")
    b.add_argument("--embeddings", help="embeddings + ids (directory/glob of TFRecord shards "
                   "from `tfembed embed`, or .npz); default: the export's baked-in gallery")
    b.add_argument("--out", help="index directory (default: inside the model version)")
    b.add_argument("--backend", default="faiss", choices=["faiss", "hnswlib", "brute_force"])
    b.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="backend parameter, e.g. kind=hnsw|ivf|flat, M=32, ef_construction=100, "
                   "ef_search=128, nlist=4000, nprobe=32, threads=2")
    b.add_argument("--metric", choices=["dot", "cosine", "neg_sq_distance"],
                   help="default: the scorer the export records")
    b.add_argument("--k", type=_at_least(1), help="results per query (default: the export's "
                   "top_k)")
    b.add_argument("--rerank", type=_at_least(0), default=0, help="re-score this many "
                   "approximate candidates exactly (0 = off)")
    b.set_defaults(func=lambda a: print(json.dumps(build(a, parse_overrides(a.param)), indent=2)))

    s = sub.add_parser("search", formatter_class=HelpFormatter,
                       help="search a gallery index with text and/or image queries (prints JSON)")
    s.add_argument("text", nargs="*", help="query texts")
    s.add_argument("--image", action="append", default=[], help="query image file (repeatable)")
    s.add_argument("--model", help="export or version directory (embeds the queries)")
    s.add_argument("--index", help="index directory (default: the model version's index)")
    s.add_argument("--k", type=_at_least(1), default=None, help="results per query (default: "
                   "the index's k; at most the gallery size)")
    s.add_argument("--rerank", type=_at_least(0), default=None,
                   help="re-rank depth (default: the index's)")
    s.set_defaults(func=lambda a: print(json.dumps(search(a), indent=2)))
