"""Issue 17 item 8: progress bars of report's Monte Carlo and convert's write, on stderr only.

The console script runs with stderr on a pseudo-terminal (the bar appears only there) and
stdout on a pipe: the JSON on stdout stays clean; ``--no-progress`` turns the bar off.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import shutil
import struct
import subprocess
import sys
import termios

import pytest

from lcasolve.examples import example_path

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")


def run_with_tty_stderr(*argv):
    """Run ``lcasolve *argv``: stdout to a pipe, stderr to a pseudo-terminal; both as text."""
    exe = shutil.which("lcasolve") or sys.exit("the lcasolve console script is not installed")
    master, slave = pty.openpty()
    # a terminal of 24 x 120 (a fresh pseudo-terminal has width 0: tqdm would draw nothing)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    proc = subprocess.Popen(
        [exe, *map(str, argv)], stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    assert proc.stdout is not None
    with proc.stdout:
        out = proc.stdout.read()
    proc.wait()
    os.close(master)
    return proc.returncode, out.decode(), b"".join(chunks).decode(errors="replace")


def test_report_monte_carlo_bar_on_the_terminal_not_in_the_json():
    args = ("report", example_path("cement"), "--demand", "cement=1", "--iterations", "48")
    code, out, err = run_with_tty_stderr(*args, "--json")
    assert code == 0, err
    assert "Monte Carlo" in err and "48/48" in err
    payload = json.loads(out)  # nothing of the bar in stdout
    assert payload["monte_carlo"]["iterations"] == 48
    code, out, err = run_with_tty_stderr(*args, "--json", "--no-progress")
    assert code == 0, err
    assert "48/48" not in err
    json.loads(out)


def test_convert_write_bar_on_the_terminal_not_in_the_json(tmp_path):
    target = tmp_path / "cement.h5"
    code, out, err = run_with_tty_stderr("convert", example_path("cement"), target, "--json")
    assert code == 0, err
    assert "writing cement.h5" in err
    assert json.loads(out)["output"] == str(target)
    again = tmp_path / "again.h5"
    code, out, err = run_with_tty_stderr(
        "convert", example_path("cement"), again, "--json", "--no-progress"
    )
    assert code == 0, err
    assert "writing" not in err
    assert json.loads(out)["output"] == str(again)


def test_no_bar_when_stderr_is_not_a_terminal(tmp_path):
    exe = shutil.which("lcasolve")
    proc = subprocess.run(
        [exe, "convert", str(example_path("cement")), str(tmp_path / "c.h5"), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "writing" not in proc.stderr
    json.loads(proc.stdout)
