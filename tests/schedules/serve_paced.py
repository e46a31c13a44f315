"""`pulsebot serve` with the Slack face paced at `PULSEBOT_TEST_SLACK_RATE` messages a second.

Only the token bucket's rate and burst differ from the product; the face, the clock and the
sender are the ones `pulsebot serve` builds.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import bot.slack.app as slack_app  # noqa: E402
from bot.__main__ import main  # noqa: E402

_RATE = float(os.environ.get("PULSEBOT_TEST_SLACK_RATE", "4"))
_BURST = int(os.environ.get("PULSEBOT_TEST_SLACK_BURST", "0")) or max(1, int(_RATE))


def _paced_slack(ctx, settings):  # noqa: ANN001, ANN202 - same signature as build_slack
    return slack_app.SlackFace(ctx, settings, rate=_RATE, burst=_BURST)


slack_app.build_slack = _paced_slack

if __name__ == "__main__":
    sys.exit(main())
