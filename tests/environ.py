"""The environment a test's child process (`pulsebot serve`, the CLI, `make chat`) starts from."""

from __future__ import annotations

import os

# A developer's own settings must not leak into a child: it gets exactly what the test gives it.
OWN_SETTINGS = ("SLACK_", "MICROSOFT_", "PULSEBOT_")


def clean_env(**values: str) -> dict[str, str]:
    """This process's environment without any SLACK_*, MICROSOFT_* or PULSEBOT_* variable, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_SETTINGS)}
    env.update(values)
    return env
