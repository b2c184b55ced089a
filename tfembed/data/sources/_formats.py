"""Strict readers shared by the real-format sources.

Every error names the file, the line or record, and what was expected.
"""

import json
import os

import numpy as np

from tfembed.errors import ConfigError, DataError


def check_options(source, options, defaults):
    """`defaults` updated by `options`; an unknown option raises ConfigError listing valid ones."""
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise ConfigError(f"data source {source!r}: unknown option(s) {', '.join(unknown)}; "
                          f"valid: {', '.join(sorted(defaults))}")
    return {**defaults, **options}


def need(path, what):
    """`path` as a string; DataError if it does not exist (`what` says what the file is)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise DataError(f"missing {what}", path)
    return path


def read_lines(path, what="text file"):
    """[(line_number, text)] of a UTF-8 file, line endings stripped, blank lines left out.

    Decoding is strict, line by line, so a bad byte is reported with its line number.
    """
    path = need(path, what)
    out = []
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise DataError(f"{what} is not valid UTF-8 (byte {err.start} of the line)",
                                path, number) from None
            text = text.rstrip("\r\n")
            if text.strip():
                out.append((number, text))
    return out


def read_table(path, what, fields, expected, rest=False):
    """Whitespace-separated rows of exactly `fields` columns (`rest`: the last takes the rest)."""
    rows = []
    for number, text in read_lines(path, what):
        parts = text.split(None, fields - 1) if rest else text.split()
        if len(parts) != fields:
            raise DataError(f"expected {expected!r}, got {text!r}", path, number)
        rows.append((number, [p.strip() for p in parts]))
    return rows


def parse_int(value, path, number, expected):
    """int(value) or a DataError naming the line."""
    try:
        return int(value)
    except ValueError:
        raise DataError(f"expected an integer in {expected!r}, got {value!r}",
                        path, number) from None


def read_id_table(path, what, expected, rest=False):
    """'<id> <value>' lines with ids 1..N in order -> ([value], [line number]); gaps raise.

    `rest`: the value is the rest of the line (it may hold spaces, e.g. "2<TAB>grizzly bear").
    """
    values, lines = [], []
    for number, (ident, value) in read_table(path, what, 2, expected, rest):
        if parse_int(ident, path, number, expected) != len(values) + 1:
            raise DataError(f"expected id {len(values) + 1} in {expected!r}, got {ident}",
                            path, number)
        values.append(value)
        lines.append(number)
    return values, lines


def read_names(path, what, known=None):
    """One name per line, no repeats; with `known` (name -> index) returns sorted indices."""
    seen, out = set(), []
    for number, text in read_lines(path, what):
        name = text.strip()
        if name in seen:
            raise DataError(f"class {name!r} listed twice", path, number)
        seen.add(name)
        if known is not None:
            if name not in known:
                raise DataError(f"unknown class {name!r} (not in the class list)", path, number)
            out.append(known[name])
        else:
            out.append(name)
    return sorted(out) if known is not None else out


def read_matrix(path, what, rows, cols):
    """A whitespace-separated float matrix with exactly `rows` x `cols` values, as float32."""
    lines = read_lines(path, what)
    if len(lines) != rows:
        raise DataError(f"expected {rows} rows ({what}), got {len(lines)}", path)
    out = np.empty((rows, cols), np.float32)
    for i, (number, text) in enumerate(lines):
        parts = text.split()
        if len(parts) != cols:
            raise DataError(f"expected {cols} numbers, got {len(parts)}", path, number)
        try:
            out[i] = [float(p) for p in parts]
        except ValueError as err:
            raise DataError(f"expected numbers: {err}", path, number) from None
    return out


def read_json(path, what):
    """Parse a JSON file with strict UTF-8; errors name the line."""
    path = need(path, what)
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise DataError(f"{what} is not valid UTF-8", path, line) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(f"{what} is not valid JSON: {err.msg} (column {err.colno})",
                        path, err.lineno) from None


def record(obj, keys, path, where):
    """The values of `keys` in the JSON object `obj` (record `where`), or a DataError."""
    if not isinstance(obj, dict):
        raise DataError(f"expected an object with {', '.join(keys)}, got {type(obj).__name__}",
                        path, where)
    missing = [k for k in keys if k not in obj]
    if missing:
        raise DataError(f"record lacks {', '.join(missing)} (expected {', '.join(keys)})",
                        path, where)
    return [obj[k] for k in keys]


def load_mat(path, required, what=".mat file"):
    """scipy.io.loadmat with the variables in `required` checked (error lists those present)."""
    import scipy.io

    path = need(path, what)
    try:
        mat = scipy.io.loadmat(path)
    except NotImplementedError:
        raise DataError(f"{what} is MATLAB v7.3 (HDF5); save it as -v7", path) from None
    except Exception as err:  # scipy raises many types for corrupt files
        raise DataError(f"cannot read {what}: {err}", path) from None
    present = sorted(k for k in mat if not k.startswith("__"))
    missing = [k for k in required if k not in mat]
    if missing:
        raise DataError(f"{what} lacks variable(s) {', '.join(missing)}; has {', '.join(present)}",
                        path)
    return mat


def mat_strings(array, path, var):
    """A MATLAB cell of strings ((n, 1) object array) -> [str]."""
    out = []
    for i, cell in enumerate(np.asarray(array, dtype=object).reshape(-1)):
        value = np.asarray(cell).reshape(-1)
        if value.size != 1 or not isinstance(value[0], str):
            raise DataError(f"{var}[{i + 1}] is not a string", path)
        out.append(value[0])
    return out


def mat_index(array, path, var, size):
    """1-based MATLAB indices -> 0-based int64, each checked to lie in 1..size."""
    values = np.asarray(array).reshape(-1)
    ints = values.astype(np.int64)
    if values.size and (np.any(ints != values) or ints.min() < 1 or ints.max() > size):
        bad = int(np.flatnonzero((ints != values) | (ints < 1) | (ints > size))[0])
        raise DataError(f"{var}[{bad + 1}] = {values[bad]} is not a 1-based index in 1..{size}",
                        path)
    return ints - 1


def load_feature_mat(path):
    """xlsa17 `res101.mat` layout -> (features N x D float32, image_files [str], labels 0-based)."""
    mat = load_mat(path, ["features", "image_files", "labels"], "feature file (res101.mat layout)")
    files = mat_strings(mat["image_files"], path, "image_files")
    feats = np.asarray(mat["features"], dtype=np.float32)
    if feats.ndim != 2 or feats.shape[1] != len(files):
        raise DataError(f"features must be D x N with N = {len(files)} image_files, "
                        f"got {feats.shape}", path)
    labels = np.asarray(mat["labels"]).reshape(-1)
    if labels.size != len(files):
        raise DataError(f"labels has {labels.size} entries, image_files {len(files)}", path)
    return np.ascontiguousarray(feats.T), files, labels


def tail(path, depth):
    """The last `depth` components of a '/'- or '\\'-separated path, joined by '/'."""
    return "/".join(path.replace("\\", "/").rstrip("/").split("/")[-depth:])


def match_rows(keys, feature_keys, path, skip=False):
    """Row of each key in `feature_keys` (None when absent and `skip`); first miss raises."""
    index = {}
    for row, key in enumerate(feature_keys):
        if key in index:
            raise DataError(f"image {key!r} has two feature rows ({index[key] + 1}, {row + 1})",
                            path)
        index[key] = row
    rows = [index.get(k) for k in keys]
    if not skip and None in rows:
        first = keys[rows.index(None)]
        raise DataError(f"no feature row for image {first!r} ({rows.count(None)} images unmatched;"
                        " pass skip_missing=True to drop them)", path)
    return rows


def gather(feats, rows):
    """Feature rows in image order (zeros where `rows` is None) and the mask of matched images."""
    have = [r is not None for r in rows]
    out = np.zeros((len(rows), feats.shape[1]), np.float32)
    out[np.flatnonzero(have)] = feats[[r for r in rows if r is not None]]
    return out, have


def verify_images(paths):
    """Decode every image with PIL (only on request: slow for big sets)."""
    from PIL import Image

    for p in paths:
        try:
            with Image.open(p) as im:
                im.load()
        except Exception as err:
            raise DataError(f"undecodable image: {err}", p) from None


def class_split_files(directory, files, known):
    """{split: sorted class indices} from those class-list files (split -> file name) present."""
    return {split: read_names(os.path.join(directory, name), "class list", known)
            for split, name in files.items() if os.path.isfile(os.path.join(directory, name))}


def rows_of(labels, classes):
    """Image rows whose label is one of `classes`."""
    return np.flatnonzero(np.isin(labels, np.asarray(classes, dtype=np.int64)))


def existing(paths, listed_in, lines, skip, hint="pass skip_missing=True to drop them"):
    """Mask of `paths` that exist; unless `skip`, the first missing one raises naming its line."""
    found = [os.path.isfile(p) for p in paths]
    if not skip and not all(found):
        i = found.index(False)
        line = None if lines is None else lines[i]
        listed_in = listed_in if isinstance(listed_in, str) else listed_in[i]
        raise DataError(f"image file {paths[i]} does not exist ({found.count(False)} missing; "
                        f"{hint})", listed_in, line)
    return found


def keep_rows(dataset, keep, skipped):
    """`dataset` restricted to rows where `keep`; `skipped` (reason -> count) goes to meta."""
    counts = {k: int(v) for k, v in skipped.items() if v}
    if all(keep):
        dataset.meta["skipped"] = counts
        return dataset
    out = dataset.subset(np.flatnonzero(np.asarray(keep, dtype=bool)))
    out.meta = {**dataset.meta, "skipped": counts}
    return out


def one_class_per_image(dataset):
    """Retrieval sets: class i = image i, named by its id (reset after rows were dropped)."""
    dataset.class_names = list(dataset.image_ids)
    dataset.labels = np.arange(len(dataset.image_ids), dtype=np.int64)
    return dataset


def read_captions(path, what="caption file"):
    """'<image>#<k><TAB><caption>' lines -> (ids in file order, {id: [captions]}, {id: line})."""
    expected = "<image>#<k><TAB><caption>"
    texts, first, seen = {}, {}, set()
    for number, text in read_lines(path, what):
        head, tab, caption = text.partition("\t")
        image, hash_, k = head.rpartition("#")
        if not tab or not hash_ or not image or not k.isdigit() or not caption.strip():
            raise DataError(f"expected {expected!r}, got {text!r}", path, number)
        if (image, k) in seen:
            raise DataError(f"caption {image}#{k} given twice", path, number)
        seen.add((image, k))
        texts.setdefault(image, []).append(caption)
        first.setdefault(image, number)
    return list(texts), texts, first


def load_npz_features(path):
    """An .npz with `image_files` (N,) and `features` (N, D) -> (features float32, [file names])."""
    path = need(path, "feature file (.npz with image_files, features)")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in ("image_files", "features") if k not in z.files]
            if missing:
                raise DataError(f"feature file lacks {', '.join(missing)}; "
                                f"has {', '.join(z.files)}", path)
            files, feats = [str(f) for f in z["image_files"]], np.asarray(z["features"], np.float32)
    except (OSError, ValueError) as err:
        raise DataError(f"cannot read feature file: {err}", path) from None
    if feats.ndim != 2 or feats.shape[0] != len(files):
        raise DataError(f"features must be N x D with N = {len(files)} image_files, "
                        f"got {feats.shape}", path)
    return feats, files


def caption_dataset(name, ids, texts, listed_in, where, splits, paths, opt, boxes=None,
                    noun="captions"):
    """A retrieval Dataset (one class per image) with the shared caption/file/feature checks.

    `where[r]`: line/record of row r in `listed_in` (a file, or one file per row); `paths`: image
    files or None (no image directory); `opt`: skip_missing, captions_per_image, features (.npz),
    only_with_images, verify_images. Rows are dropped only under skip_missing/only_with_images,
    and counted in meta["skipped"].
    """
    from tfembed.data.dataset import Dataset

    skip, expected = opt["skip_missing"], opt.get("captions_per_image", 0)
    keep, skipped = [True] * len(ids), {f"wrong_{noun}_count": 0, "no_image": 0}
    for r, i in enumerate(ids):
        if (expected and len(texts[r]) != expected) or not texts[r]:
            if not skip:
                raise DataError(f"expected {expected or 'at least 1'} {noun} for {i}, got "
                                f"{len(texts[r])} (skip_missing=True drops such images)",
                                listed_in if isinstance(listed_in, str) else listed_in[r], where[r])
            keep[r] = False
            skipped[f"wrong_{noun}_count"] += 1
    found = None if paths is None else [os.path.isfile(p) for p in paths]
    features, have = None, found
    if opt.get("features"):
        feats, files = load_npz_features(opt["features"])
        rows = match_rows([tail(i, 1) for i in ids], [tail(f, 1) for f in files], opt["features"],
                          skip or opt["only_with_images"])
        features, have = gather(feats, rows)
    if opt["only_with_images"]:
        if have is None:
            raise DataError("only_with_images=True but there is no image directory and no "
                            "features= given", listed_in if isinstance(listed_in, str) else None)
        skipped["no_image"] = sum(k and not h for k, h in zip(keep, have))
        keep = [k and h for k, h in zip(keep, have)]
    elif features is not None:  # reached only under skip_missing when rows lack features
        skipped["missing_feature"] = sum(k and not h for k, h in zip(keep, have))
        keep = [k and h for k, h in zip(keep, have)]
    elif found is not None and not all(found):
        existing(paths, listed_in, where, skip,
                 "only_with_images=True keeps only images that have a file")
        skipped["missing_image"] = found.count(False)
        keep = [k and f for k, f in zip(keep, found)]
    meta = {}
    if paths is not None and not all(f for f, k in zip(found, keep) if k):
        meta["image_paths"] = "dropped: some kept images have features but no file"
        paths = None
    if paths is not None and opt.get("verify_images"):
        verify_images([p for p, k in zip(paths, keep) if k])
    ds = Dataset(name=name, image_ids=list(ids), labels=np.arange(len(ids)), class_names=list(ids),
                 texts=texts, splits=splits, image_paths=paths, features=features, boxes=boxes,
                 meta=meta)
    return one_class_per_image(keep_rows(ds, keep, skipped))
