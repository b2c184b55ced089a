"""The `tfembed` console script: `tfembed data stats|tfrecords`, `export`, `caption`,
`index build`, `search`, `embed`, `serve`, `query`."""

import argparse
import json
import sys

from tfembed.errors import TfembedError


def parse_overrides(items):
    """['a.b=1', 'c=x'] -> {'a.b': 1, 'c': 'x'} with Python literals parsed where possible."""
    from tfembed.config import parse_value

    out = {}
    for item in items or []:
        if "=" not in item:
            raise TfembedError(f"--set expects key=value, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = parse_value(value)
    return out


def _data_stats(args):
    from tfembed import data

    options = parse_overrides(args.set)
    options = {k[len("data."):] if k.startswith("data.") else k: v for k, v in options.items()}
    dataset = data.load(args.source, args.root, **options)
    print(json.dumps(dataset.stats(), indent=2, sort_keys=True))


def _data_tfrecords(args):
    from tfembed import data
    from tfembed.data.tfrecords import write_tfrecords

    options = parse_overrides(args.set)
    options = {k[len("data."):] if k.startswith("data.") else k: v for k, v in options.items()}
    dataset = data.load(args.source, args.root, **options)
    shards = write_tfrecords(dataset, args.out, split=args.split, num_shards=args.shards)
    print(json.dumps({"out": args.out, "shards": len(shards)}))


def _export(args):
    from tfembed.export.run_export import export_run

    print(json.dumps(export_run(args.run_dir, version=args.version)))


def _caption(args):
    from tfembed.export.captioning import caption_images

    print(json.dumps(caption_images(args.model, args.images), indent=2))


def build_parser():
    parser = argparse.ArgumentParser(prog="tfembed", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    data_p = sub.add_parser("data", help="inspect data sources")
    data_sub = data_p.add_subparsers(dest="data_command", required=True)
    stats = data_sub.add_parser("stats", help="print a JSON summary of a data source")
    stats.add_argument("--source", required=True)
    stats.add_argument("--root", default=None, help="data directory (not needed for synthetic_*)")
    stats.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    stats.set_defaults(func=_data_stats)
    records = data_sub.add_parser("tfrecords", help="convert a data source to sharded TFRecords")
    records.add_argument("--source", required=True)
    records.add_argument("--root", default=None)
    records.add_argument("--out", required=True, help="output directory (shards + manifest.json)")
    records.add_argument("--split", default=None, help="only this split (default: all images)")
    records.add_argument("--shards", type=int, default=None, help="default: one per 1024 images")
    records.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    records.set_defaults(func=_data_tfrecords)

    export_p = sub.add_parser("export", help="export a finished run directory as a new "
                              "SavedModel version under RUN_DIR/export/")
    export_p.add_argument("run_dir")
    export_p.add_argument("--version", type=int, default=None)
    export_p.set_defaults(func=_export)

    caption_p = sub.add_parser("caption", help="caption image files with an exported "
                               "SavedModel's `generate` signature (prints JSON {image: caption})")
    caption_p.add_argument("--model", required=True, help="SavedModel version directory, or an "
                           "export directory of numbered versions (the newest is used)")
    caption_p.add_argument("images", nargs="+", metavar="IMAGE")
    caption_p.set_defaults(func=_caption)

    from tfembed.index.commands import add_parsers as add_index_parsers
    add_index_parsers(sub, parse_overrides)

    # These have their own argument parsers (serving: flag names follow tensorflow_model_server;
    # embed: unknown flags are Beam pipeline options).
    sub.add_parser("embed", help="embed image files or TFRecords with an exported SavedModel "
                   "on Apache Beam (writes embeddings-*.tfrecord + errors-*.jsonl)", add_help=False)
    sub.add_parser("serve", help="TF-Serving-compatible gRPC/REST server", add_help=False)
    sub.add_parser("query", help="query a TF Serving (or tfembed serve) server", add_help=False)
    return parser


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "serve":
            from tfembed.serving.server import main as serve_main
            return serve_main(argv[1:])
        if argv and argv[0] == "embed":
            from tfembed.beam.embed_images import main as embed_main
            return embed_main(argv[1:])
        if argv and argv[0] == "query":
            from tfembed.serving.client import main as query_main
            return query_main(argv[1:])
        args = build_parser().parse_args(argv)
        return args.func(args)
    except TfembedError as err:
        print(f"tfembed: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
