"""The ``allcare`` command-line interface (Typer + rich)."""
