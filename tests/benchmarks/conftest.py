"""The benchmark scripts import their helpers as top-level modules (benchmarks/ is the script
directory, not a package): make them importable here."""

import pathlib
import sys

BENCHMARKS = pathlib.Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))
