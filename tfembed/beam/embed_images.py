"""Embed a large image collection with an exported SavedModel on Apache Beam.

    python -m tfembed.beam.embed_images --model EXPORT_DIR --images 'DIR/**.jpg' --out OUT \
        [--batch-size 64] [--num-shards 0] [Beam options: --runner DirectRunner ...]

Reads image files (--images GLOB; id = path below the glob's fixed directory) or the shards of
`tfembed data tfrecords` (--tfrecords GLOB|DIR; id = image_id), runs the `embed_image`
signature through RunInference, and writes OUT/embeddings-SSSSS-of-NNNNN.tfrecord
(tfembed.data.embeddings_file format), OUT/errors-SSSSS-of-NNNNN.jsonl (every input that could
not be read or decoded, or whose id is duplicated, with the reason) and OUT/summary.json.
Flags this module does not know are Beam pipeline options, so the same command runs on the
DirectRunner, Dataflow, Flink or Spark.
"""

import argparse
import json
import os
import sys
import time

from tfembed.errors import TfembedError
from tfembed.export import signatures as sig


def _parser():
    from tfembed.cli import HelpFormatter

    parser = argparse.ArgumentParser(
        prog="tfembed embed", description=__doc__.split("\n")[0],
        epilog="Other flags are Beam pipeline options, e.g. --runner DirectRunner "
        "--direct_num_workers 2 --direct_running_mode multi_processing, or --runner "
        "DataflowRunner --project P --region R --temp_location gs://B/tmp --setup_file "
        "./setup.py.", allow_abbrev=False,  # never swallow a Beam option
        formatter_class=HelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--images", help="glob of image files (JPEG/PNG/GIF/BMP), e.g. "
                        "'photos/**.jpg'; a directory means its files")
    source.add_argument("--tfrecords", help="glob or directory of `tfembed data tfrecords` shards")
    parser.add_argument("--model", required=True, help="export dir of numbered versions (newest "
                        "used) or one version dir; its embed_image signature is used")
    parser.add_argument("--out", required=True, help="output directory (local or any Beam "
                        "file system, e.g. gs://)")
    parser.add_argument("--batch-size", type=int, default=64, help="max examples per model call")
    parser.add_argument("--num-shards", type=int, default=0,
                        help="embeddings shards to write (0: the runner decides)")
    return parser


def _local(path):
    return path if "://" in path else os.path.abspath(path)


def _pattern(args):
    pattern = _local(args.images or args.tfrecords)
    if os.path.isdir(pattern):
        pattern = os.path.join(pattern, "*" if args.images else "*.tfrecord")
    return pattern


def _clear_old_outputs(out):
    """Shards of an earlier run with another shard count would be read back with the new ones."""
    from apache_beam.io.filesystems import FileSystems

    patterns = [FileSystems.join(out, p) for p in
                ("embeddings-*-of-*.tfrecord", "errors-*-of-*.jsonl", "summary.json")]
    old = [m.path for r in FileSystems.match(patterns) for m in r.metadata_list]
    if old:
        FileSystems.delete(old)


def _check_remote_paths(args, beam_args):
    """Dataflow workers cannot see this machine's files: fail now, not after staging."""
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    from tfembed.errors import ConfigError

    runner = PipelineOptions(beam_args).view_as(StandardOptions).runner or ""
    paths = [args.model, args.images or args.tfrecords, args.out]
    local = [p for p in paths if "://" not in p]
    if "Dataflow" in runner and local:
        raise ConfigError(f"{runner} needs --model, the inputs and --out on a shared file "
                          f"system (gs://...); local: {', '.join(local)}")


def main(argv=None):
    """Run the pipeline; prints the summary JSON. Returns 0, or 2 on a bad input."""
    args, beam_args = _parser().parse_known_args(argv)
    try:
        import apache_beam  # noqa: F401
    except ImportError:
        print("tfembed: error: apache-beam is not installed: pip install 'tfembed[beam]'",
              file=sys.stderr)
        return 2
    try:
        summary = run(args, beam_args)
    except TfembedError as err:
        print(f"tfembed: error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=1))
    return 0


def run(args, beam_args):
    from apache_beam.io.filesystems import FileSystems

    from tfembed.beam import inputs
    from tfembed.beam.model import signature_input
    from tfembed.beam.pipeline import build
    from tfembed.errors import ConfigError
    from tfembed.export.versions import resolve_version

    if args.batch_size < 1 or args.num_shards < 0:
        raise ConfigError("--batch-size must be >= 1 and --num-shards >= 0")
    _check_remote_paths(args, beam_args)
    version = resolve_version(_local(args.model))
    input_name, feature_dim = signature_input(version)
    if args.images and input_name != sig.IMAGE:
        raise ConfigError(f"{version}: embed_image takes precomputed 'features'; image files "
                          "need a model exported from pixels (input 'image'): use --tfrecords")
    pattern = _pattern(args)
    files = inputs.match(pattern, "image files" if args.images else "TFRecord shards")
    if args.tfrecords:
        inputs.check_tfrecords(files, input_name, feature_dim)
    out = _local(args.out)
    _clear_old_outputs(out)
    start = time.time()
    build(beam_args, pattern=pattern, images=bool(args.images), version=version,
          input_name=input_name, feature_dim=feature_dim, out=out,
          batch_size=args.batch_size, num_shards=args.num_shards)
    seconds = time.time() - start
    path = FileSystems.join(out, "summary.json")
    with FileSystems.open(path) as f:
        summary = json.load(f)
    done = summary["embedded"] + summary["failed"]
    summary.update(model=version, input=pattern, seconds=round(seconds, 2),
                   per_second=round(done / seconds, 1))
    with FileSystems.create(path) as f:
        f.write(json.dumps(summary, indent=1).encode())
    return summary


if __name__ == "__main__":
    sys.exit(main())
