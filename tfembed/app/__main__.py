"""`python -m tfembed.app --model EXPORT_BASE ...` (the same as `tfembed app ...`)."""

import sys

from tfembed.app.command import main

sys.exit(main())
