"""``python -m durationbt``."""

from .cli.app import main

main()
