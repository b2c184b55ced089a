"""The `tfembed` console script: `tfembed data stats|tfrecords|regions`, `export`, `caption`,
`index build`, `search`, `embed`, `serve`, `query`.

TensorFlow's C++ log lines are hidden unless `--verbose` is given (anywhere on the line);
`tfembed --version` prints the version."""

import argparse
import json
import sys

from tfembed.errors import TfembedError

VERBOSE = "--verbose"


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions as written; every option with a default says it: "(default: X)".

    Defaults of None, False and [] mean "not given" and are left out, as is a default the help
    text already explains ("default: ...").
    """

    def _format_action(self, action):
        if action.help is None and self._shows_default(action):
            import copy

            action = copy.copy(action)
            action.help = "(default: %(default)s)"
        return super()._format_action(action)

    def _get_help_string(self, action):
        text = action.help or ""
        if self._shows_default(action) and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text

    @staticmethod
    def _shows_default(action):
        unset = (action.default is None or action.default is False or action.default == []
                 or action.default == argparse.SUPPRESS)
        return bool(action.option_strings) and not unset and "default" not in (
            action.help or "").lower()


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
    from tfembed import __version__

    parser = argparse.ArgumentParser(prog="tfembed", description=__doc__,
                                     formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"tfembed {__version__}")
    parser.add_argument(VERBOSE, action="store_true", help="show TensorFlow's C++ log lines "
                        "(hidden by default); accepted anywhere on the command line")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(subparsers, name, **kwargs):
        return subparsers.add_parser(name, formatter_class=HelpFormatter, **kwargs)

    data_p = add(sub, "data", help="inspect data sources")
    data_sub = data_p.add_subparsers(dest="data_command", required=True)
    stats = add(data_sub, "stats", help="print a JSON summary of a data source")
    stats.add_argument("--source", required=True)
    stats.add_argument("--root", default=None, help="data directory (not needed for synthetic_*)")
    stats.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    stats.set_defaults(func=_data_stats)
    records = add(data_sub, "tfrecords", help="convert a data source to sharded TFRecords")
    records.add_argument("--source", required=True)
    records.add_argument("--root", default=None)
    records.add_argument("--out", required=True, help="output directory (shards + manifest.json)")
    records.add_argument("--split", default=None, help="only this split (default: all images)")
    records.add_argument("--shards", type=int, default=None, help="default: one per 1024 images")
    records.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    records.set_defaults(func=_data_tfrecords)
    from tfembed.data.regions_command import add_parser as add_regions_parser
    add_regions_parser(data_sub)

    export_p = add(sub, "export", help="export a finished run directory as a new "
                   "SavedModel version under RUN_DIR/export/")
    export_p.add_argument("run_dir")
    export_p.add_argument("--version", type=int, default=None)
    export_p.set_defaults(func=_export)

    caption_p = add(sub, "caption", help="caption image files with an exported "
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
    sub.add_parser("app", help="web page to search, explore and classify with an export "
                   "(needs the [app] extra)", add_help=False)
    return parser


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    from tfembed import quiet

    # Before any command imports TensorFlow (an import hook: nothing is imported here).
    quiet.install(verbose=VERBOSE in argv)
    argv = [a for a in argv if a != VERBOSE]  # the sub-commands' own parsers do not know it
    try:
        if argv and argv[0] == "serve":
            from tfembed.serving.server import main as serve_main
            return serve_main(argv[1:])
        if argv and argv[0] == "embed":
            from tfembed.beam.embed_images import main as embed_main
            return embed_main(argv[1:])
        if argv and argv[0] == "app":
            from tfembed.app.command import main as app_main
            return app_main(argv[1:])
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
