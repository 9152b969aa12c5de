"""``python -m allcare`` runs the command line."""

from allcare.cli.main import run

run()
