"""a11ycrawl's auditing core: rendering, axe-core, storage, scoring, the pipeline and the CLI."""

__version__ = "0.1.0"
