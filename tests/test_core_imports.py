"""The core (embeddings/ and qa/ outside qa/tui/) never imports Textual."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

CHECK = """
import importlib, pkgutil, sys
import embeddings, qa
mods = []
for package in (qa, embeddings):
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if info.name == "qa.tui" or info.name.startswith("qa.tui."):
            continue
        importlib.import_module(info.name)
        mods.append(info.name)
from qa.cli import build_parser
build_parser()  # imports every subcommand module, qa chat's included
assert "qa.conversation" in mods and "qa.commands.chat" in mods, mods
bad = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
print("textual modules:", bad)
sys.exit(1 if bad else 0)
"""


def test_core_never_imports_textual():
    done = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_app_does_import_textual():
    """The check above can fail: importing the app does pull Textual in."""
    code = "import sys, qa.tui.app; sys.exit(0 if 'textual' in sys.modules else 1)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=300).returncode == 0
