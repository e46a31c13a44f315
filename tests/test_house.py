"""The house rules a reader relies on: small modules (STYLE habit 14)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "schedules", "storage", "bench", "tests")
MAX_LINES = 400


def test_no_module_passes_400_lines_outside_the_platform_fakes():
    fakes = ROOT / "tests" / "fakes"
    long = {
        str(path.relative_to(ROOT)): n
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if fakes not in path.parents and (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these by job: {long}"
