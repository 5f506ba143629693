"""The README's promises: set-up commands first, examples that run and print what they say."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from touchline.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(), flags=re.S)


def test_first_two_commands_are_make_demo_and_make_test():
    first = _blocks("bash")[0].strip().splitlines()
    assert [line.split("#")[0].strip() for line in first[:2]] == ["make demo", "make test"]


@pytest.mark.slow
def test_python_examples_run(tmp_path, monkeypatch, shared):
    shared("tracking/lastrow/LIV_[2]-1_CHE.csv")  # the analytics example reads a real play
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for block in _blocks("python"):
            exec(compile(block, str(README), "exec"), namespace)
    printed = out.getvalue()
    # The values the comments promise.
    assert "[16.5" in printed and "26.6875" in printed
    assert "32 51" in printed
    assert "[[-52.5  34. ]]" in printed and "[[52.5 34. ]]" in printed
    assert "\n10\n" in printed  # probe frame count
    assert "2 0.08 (180, 320, 3)" in printed  # VideoReader start=2
    assert "(32, 50)" in printed  # EDG's pitch control grid


def test_info_example_matches_reality(shared):
    path = shared("video/dfl_08fd33_4.mp4")
    promised = next(
        line[2:] for line in _blocks("bash")[1].splitlines() if line.startswith("# ../shared")
    )
    result = CliRunner().invoke(app, ["info", str(path)])
    assert result.exit_code == 0
    assert result.stdout.strip().split(": ", 1)[1] == promised.split(": ", 1)[1]
