"""The operator contract through real subprocesses: demo seed, report, checkins send, chat, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.environ import clean_env

ROOT = Path(__file__).resolve().parents[2]
SECRET = "e2e-secret-0123456789abcdef-0123456789"


def run(tmp_path: Path, *args: str, stdin: str = "", config: str | None = None, env: dict | None = None,
        secret: bool = True) -> subprocess.CompletedProcess:
    environ = clean_env(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    if config is not None:
        (tmp_path / "pulse.toml").write_text(config, encoding="utf-8")
        environ["PULSEBOT_CONFIG"] = str(tmp_path / "pulse.toml")
    if secret:
        environ["PULSEBOT_SECRET"] = SECRET
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          cwd=tmp_path, env=environ, timeout=120)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("seeded")
    done = run(path, "demo", "seed", "--members", "24", "--weeks", "12")
    assert done.returncode == 0, done.stderr
    return path


def test_demo_seed_names_who_to_log_in_as(seeded):
    again = run(seeded, "demo", "seed")
    assert again.returncode == 0
    assert "soporte" in again.stdout and "valeria" in again.stdout


def test_json_report_has_every_figure_and_hides_small_groups(seeded):
    done = run(seeded, "report", "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    text = json.dumps(report)
    for key in ("participation", "mood", "trend", "drivers", "enps", "empty_chair"):
        assert f'"{key}"' in text, key
    assert '"suppressed": true' in text or '"suppressed": false' in text


def test_text_report_shows_a_trend_sparkline(seeded):
    done = run(seeded, "report", "--team", "soporte", "--weeks", "12", "--lang", "en")
    assert done.returncode == 0, done.stderr
    assert any(ch in done.stdout for ch in "▁▂▃▄▅▆▇█")


def test_chart_file_is_a_png(seeded):
    out = seeded / "trend.png"
    done = run(seeded, "report", "--team", "producto", "--chart", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_leader_console_prints_twelve_week_trend(seeded):
    done = run(seeded, "chat", "--as", "valeria", "--demo", stdin="/team-pulse\n/quit\n")
    assert done.returncode == 0, done.stderr
    trend = next(line for line in done.stdout.splitlines() if any(ch in line for ch in "▁▂▃▄▅▆▇█"))
    bars = trend.split()[0]
    assert len(bars) == 12


CONSOLE_TEAM = """
[pulse]
min_group_size = 3
default_locale = "en"
[[teams]]
name = "ops"
leaders = ["olga"]
members = ["ana", "bea", "carlos"]
"""


def test_checkins_send_twice_sends_nothing_twice_and_member_answers_in_chat(tmp_path):
    first = run(tmp_path, "checkins", "send", "--team", "ops", config=CONSOLE_TEAM)
    second = run(tmp_path, "checkins", "send", "--team", "ops", config=CONSOLE_TEAM)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "3 new deliveries; sent 3" in first.stdout
    assert "already open; 0 new deliveries; sent 0" in second.stdout
    chat = run(tmp_path, "chat", "--as", "ana", config=CONSOLE_TEAM, stdin="5\n\n/pulse me\n")
    assert chat.returncode == 0, chat.stderr
    assert "How do you feel about work this week?" in chat.stdout
    assert "Great" in chat.stdout.split("/pulse")[-1] or "Great" in chat.stdout


def test_wrong_config_value_names_the_file_and_key_and_changes_nothing(tmp_path):
    done = run(tmp_path, "checkins", "send", "--team", "ops", config="[pulse]\nmin_group_size = 2\n")
    assert done.returncode == 2
    assert "pulse.toml" in done.stderr and "min_group_size = 2" in done.stderr and "at least 3" in done.stderr
    assert not (tmp_path / "cli.db").exists()


def test_serve_without_a_secret_refuses_to_start(tmp_path):
    done = run(tmp_path, "serve", "--port", "0", config=CONSOLE_TEAM, secret=False)
    assert done.returncode == 2 and "PULSEBOT_SECRET" in done.stderr


def test_db_upgrade_creates_the_schema(tmp_path):
    done = run(tmp_path, "db", "upgrade")
    assert done.returncode == 0 and "up to date" in done.stdout
    assert (tmp_path / "cli.db").exists()


def test_report_for_an_unknown_team_says_so_without_a_traceback(seeded):
    done = run(seeded, "report", "--team", "nope")
    assert done.returncode == 2
    assert "nope" in done.stderr and "Traceback" not in done.stderr
