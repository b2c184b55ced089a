"""`tfembed data regions`: region features of a data set's images into one .npz
(layout: tfembed.data.region_features). Also `python -m tfembed.data.regions_command ARGS`.

    tfembed data regions --data flickr8k --data-dir ../shared/data/flickr8k --out FILE.npz

Defaults: whole image + a 3x3 grid (10 regions) through EfficientNet-Lite0 with the ImageNet
weights next to the data (`<data-dir>/../weights/efficientnet_lite0/...`), 224 x 224 crops.
`--smoke` keeps the images a recipe's `--smoke` run keeps (data.max_images_per_split=32) and
cuts 64-pixel crops (Lite0 is 12x cheaper), so the README chain runs in seconds.
"""

import os
import sys
import time


LITE0_WEIGHTS = os.path.join("..", "weights", "efficientnet_lite0", "efficientnet_lite0_torch.npz")
SMOKE_IMAGES_PER_SPLIT = 32  # = recipe_defaults' smoke data.max_images_per_split
SMOKE_CROP = 64


def add_parser(data_sub):
    """Register `regions` under `tfembed data` (`data_sub`: its subparsers)."""
    p = data_sub.add_parser("regions", help="extract whole-image + grid region features "
                            "through a frozen CNN into an .npz (Karpathy 2015 region features)")
    p.add_argument("--data", required=True, help="data source, e.g. flickr8k")
    p.add_argument("--data-dir", required=True, help="its root directory")
    p.add_argument("--out", required=True, help="output .npz")
    p.add_argument("--grid", type=int, default=3,
                   help="n of the n x n grid (default 3: 10 regions)")
    p.add_argument("--crop-size", type=int, default=None,
                   help="region side in pixels (default 224; 64 with --smoke)")
    p.add_argument("--backbone", default="efficientnet_lite0", help="image tower of "
                   "tfembed.towers.image (default efficientnet_lite0)")
    p.add_argument("--weights", default=None, help="backbone weights (default: the Lite0 ImageNet "
                   "weights at <data-dir>/" + LITE0_WEIGHTS + "; 'none' = random init)")
    p.add_argument("--smoke", action="store_true",
                   help="only the images a --smoke recipe run keeps, 64-pixel crops")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="data source option")
    p.set_defaults(func=run)
    return p


def run(args):
    from tfembed import data
    from tfembed.cli import parse_overrides
    from tfembed.data import region_features
    from tfembed.errors import ConfigError

    crop = args.crop_size or (SMOKE_CROP if args.smoke else 224)
    if args.grid < 1 or crop < 8:
        raise ConfigError(f"--grid must be >= 1 and --crop-size >= 8, got {args.grid}, "
                          f"{crop}")
    weights = args.weights
    if weights is None and args.backbone == "efficientnet_lite0":
        weights = os.path.normpath(os.path.join(args.data_dir, LITE0_WEIGHTS))
    weights = None if weights in (None, "none") else weights
    options = {k[len("data."):] if k.startswith("data.") else k: v
               for k, v in parse_overrides(args.set).items()}
    if args.data in ("flickr8k", "flickr30k"):  # keep the images that are on disk
        options.setdefault("only_with_images", True)
    if args.smoke:
        options.setdefault("max_images_per_split", SMOKE_IMAGES_PER_SPLIT)
    start = time.time()
    dataset = data.load(args.data, args.data_dir, **options)
    print(f"[regions] {args.data}: {dataset.num_images} images loaded in "
          f"{time.time() - start:.1f} s", flush=True)
    region_features.extract_dataset(dataset, args.out, args.grid, (crop, crop),
                                    args.backbone, weights)
    return 0


def main(argv=None):
    """`python -m tfembed.data.regions_command ARGS` = `tfembed data regions ARGS`."""
    from tfembed.cli import main as cli_main

    return cli_main(["data", "regions", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
