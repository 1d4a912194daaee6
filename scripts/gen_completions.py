"""Regenerate completions/obook.{bash,zsh,fish} from the Typer app: python scripts/gen_completions.py

tests/test_completions.py fails when the committed files drift from what this writes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHELLS = ("bash", "zsh", "fish")


def script(shell: str) -> str:
    return subprocess.run([sys.executable, "-m", "orderbook_cli", "completions", shell], capture_output=True, text=True, check=True).stdout


def main() -> None:
    target = ROOT / "completions"
    target.mkdir(exist_ok=True)
    for shell in SHELLS:
        (target / f"obook.{shell}").write_text(script(shell))
        print(f"wrote completions/obook.{shell}")


if __name__ == "__main__":
    main()
