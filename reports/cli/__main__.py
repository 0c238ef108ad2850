"""``python -m reports.cli`` runs the ``a11ycrawl`` command."""

from reports.cli import main

if __name__ == "__main__":
    main()
