"""`pulsebot serve` that, once stopped, writes the modules its process imported to PULSEBOT_TEST_MODULES_OUT.

Everything else is the ordinary CLI: the file is written after `main()` returns, so it lists what
serving loaded (the report worker is another process, with modules of its own).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.__main__ import main  # noqa: E402

if __name__ == "__main__":
    status = main()
    Path(os.environ["PULSEBOT_TEST_MODULES_OUT"]).write_text("\n".join(sorted(sys.modules)), encoding="utf-8")
    sys.exit(status)
