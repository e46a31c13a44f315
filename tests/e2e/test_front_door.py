"""The README's member login, run as written: `make chat AS=ana` on the demo store."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from handlers.i18n import t
from tests.environ import clean_env

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_member_login_answers_the_open_checkin(tmp_path: Path):
    command = re.search(r"^make chat AS=ana\b", README, re.M)
    assert command, "the README gives `make chat AS=ana` as the member login"
    env = clean_env(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")  # the Makefile's default, moved aside
    env.pop("MAKEFLAGS", None)
    done = subprocess.run(["make", "-s", "chat", "AS=ana"], cwd=ROOT, env=env, input="4\n", text=True,
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert t("console.banner", "es", user="ana") in done.stdout
    assert "✔ ¡Gracias!" in done.stdout and "PULSEBOT_SECRET" not in done.stderr  # ana's answer was stored


def test_without_the_demo_flag_the_store_is_not_trusted_to_be_a_demo(tmp_path: Path):
    env = clean_env(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    done = subprocess.run([sys.executable, "-m", "bot", "chat", "--as", "ana"], cwd=tmp_path, env=env,
                          stdin=subprocess.DEVNULL, text=True, capture_output=True, timeout=120)
    assert done.returncode != 0 and "PULSEBOT_SECRET" in done.stderr
