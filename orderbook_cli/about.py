"""What `obook --version` says (without loading Typer: it is asked for often, by scripts too)."""

from __future__ import annotations

from orderbook_cli import __version__

LIBRARIES = ("typer", "rich", "httpx", "websocket-client", "pynacl")


def version_text(*, with_libraries: bool = False) -> str:
    """`obook X.Y.Z`; with --debug also the Python and library versions, for bug reports."""
    lines = [f"obook {__version__}"]
    if with_libraries:
        import platform
        from importlib.metadata import PackageNotFoundError, version

        lines.append(f"Python {platform.python_version()} ({platform.platform()})")
        for package in LIBRARIES:
            try:
                lines.append(f"{package} {version(package)}")
            except PackageNotFoundError:
                lines.append(f"{package} not installed")
    return "\n".join(lines)
