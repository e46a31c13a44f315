"""The trust commands through real subprocesses: checkins close, forget --member, the secret's guard and rotation."""

from __future__ import annotations

import json
import secrets

from tests.e2e.test_cli import CONSOLE_TEAM, SECRET, run

TEAM = CONSOLE_TEAM.replace('members = ["ana", "bea", "carlos"]', 'members = ["ana", "bea", "carlos", "dani"]')


def _answer(tmp_path, user: str, mood: str, comment: str, env: dict | None = None) -> None:
    chat = run(tmp_path, "chat", "--as", user, config=TEAM, stdin=f"{mood}\n{comment}\n", env=env)
    assert chat.returncode == 0, chat.stderr


def _report(tmp_path) -> dict:
    done = run(tmp_path, "report", "--team", "ops", "--format", "json", config=TEAM)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    data.pop("generated_at")
    data["teams"][0]["comments"].sort()
    return data


def test_close_releases_figures_and_forget_afterwards_changes_none(tmp_path):
    assert run(tmp_path, "checkins", "send", "--team", "ops", config=TEAM).returncode == 0
    for user, mood in (("ana", "1"), ("bea", "4"), ("carlos", "5")):
        _answer(tmp_path, user, mood, f"words of {user}")
    pending = _report(tmp_path)["teams"][0]["periods"][-1]
    assert pending["answered"] == 3 and pending["mood"]["pending"] is True and "mean" not in pending["mood"]

    closed = run(tmp_path, "checkins", "close", "--team", "ops", config=TEAM)
    assert closed.returncode == 0 and "ops" in closed.stdout and "3 of 4 answered" in closed.stdout
    again = run(tmp_path, "checkins", "close", "--team", "ops", config=TEAM)
    assert again.returncode == 0 and "no open round" in again.stdout
    before = _report(tmp_path)
    assert before["teams"][0]["periods"][-1]["mood"]["mean"] == 3.33
    text_before = sorted(run(tmp_path, "report", "--team", "ops", "--lang", "en", config=TEAM).stdout.splitlines())

    gone = run(tmp_path, "forget", "--member", "console:carlos", config=TEAM)
    assert gone.returncode == 0, gone.stderr
    assert _report(tmp_path) == before
    text_after = run(tmp_path, "report", "--team", "ops", "--lang", "en", config=TEAM).stdout
    assert sorted(text_after.splitlines()) == text_before  # comments come shuffled, figures identical
    me = run(tmp_path, "chat", "--as", "carlos", config=TEAM, stdin="/pulse me\n")
    assert "Great" not in me.stdout and "ops" not in me.stdout.split("/pulse me")[-1]


def test_forget_with_a_malformed_member_is_refused(tmp_path):
    done = run(tmp_path, "forget", "--member", "carlos", config=TEAM)
    assert done.returncode == 2 and "slack:U" in done.stderr


def test_serve_with_a_weak_secret_exits_naming_it_and_creates_no_store(tmp_path):
    done = run(tmp_path, "serve", "--port", "0", config=TEAM, env={"PULSEBOT_SECRET": "a" * 40})
    assert done.returncode == 2
    assert "PULSEBOT_SECRET" in done.stderr and "token_hex" in done.stderr
    assert not (tmp_path / "cli.db").exists()


def test_a_store_refuses_a_different_secret_and_rotation_keeps_pulse_me(tmp_path):
    assert run(tmp_path, "checkins", "send", "--team", "ops", config=TEAM).returncode == 0
    _answer(tmp_path, "ana", "5", "all good")
    other = secrets.token_hex(32)
    refused = run(tmp_path, "serve", "--port", "0", config=TEAM, env={"PULSEBOT_SECRET": other})
    assert refused.returncode == 2 and "secret rotate" in refused.stderr

    rotated = run(tmp_path, "secret", "rotate", config=TEAM,
                  env={"PULSEBOT_SECRET": other, "PULSEBOT_SECRET_OLD": SECRET})
    assert rotated.returncode == 0, rotated.stderr
    assert "re-keyed 1 answers" in rotated.stdout
    twice = run(tmp_path, "secret", "rotate", config=TEAM, env={"PULSEBOT_SECRET": other, "PULSEBOT_SECRET_OLD": SECRET})
    assert twice.returncode == 0 and "already" in twice.stdout

    me = run(tmp_path, "chat", "--as", "ana", config=TEAM, stdin="/pulse me\n", env={"PULSEBOT_SECRET": other})
    assert me.returncode == 0, me.stderr
    assert "Great" in me.stdout.split("/pulse me")[-1] or "Great" in me.stdout
    old = run(tmp_path, "chat", "--as", "ana", config=TEAM, stdin="/pulse me\n")
    assert old.returncode == 2 and "PULSEBOT_SECRET" in old.stderr
