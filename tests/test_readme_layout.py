"""The README's layout table ("What is here") matches the tree: every path it names exists,
and every package and top-level module of tfembed/ is named in it."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def layout_paths():
    text = (ROOT / "README.md").read_text()
    section = text.split("## What is here", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|") and "---" not in line]
    paths = set()
    for row in rows[1:]:  # the header row names the columns
        where = row.rstrip("|").split("|")[-1]
        paths.update(re.findall(r"`([^`]+)`", where))
    return paths


def test_every_named_path_exists():
    paths = layout_paths()
    assert paths, "no paths found in the README's 'What is here' table"
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert not missing, f"README layout names paths that do not exist: {missing}"


def test_every_package_and_module_is_named():
    named = {p.rstrip("/") for p in layout_paths()}
    parts = [p for p in sorted((ROOT / "tfembed").iterdir())
             if (p.is_dir() and (p / "__init__.py").exists())
             or (p.suffix == ".py" and p.name not in ("__init__.py", "__main__.py"))]
    unnamed = [str(p.relative_to(ROOT)) for p in parts
               if not any(str(p.relative_to(ROOT)) == n or n.startswith(str(p.relative_to(ROOT)) + "/")
                          for n in named)]
    assert not unnamed, f"README layout does not mention: {unnamed}"
