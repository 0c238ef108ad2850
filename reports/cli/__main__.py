"""``python -m reports.cli`` runs the ``a11ycrawl`` command."""

from reports.cli import main

main()
