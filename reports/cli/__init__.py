"""The ``a11ycrawl`` command line: a thin layer over the library (:mod:`audits`).

One module per command family, each parsing options, calling the library and rendering:
:mod:`.audit` (audit, demo), :mod:`.scores` (history, league, diff, rescore), :mod:`.outputs`
(report, export), :mod:`.check` (the CI gate). Shared options, exit codes and the console are in
:mod:`.common`. Exit codes: 0 done (check: gate passed), 1 the gate failed, 2 the tool failed.
"""

from __future__ import annotations

import sys

import click

from audits import __version__
from audits.engine.runtime import Interrupted
from audits.errors import A11yCrawlError
from reports.cli import audit, check, outputs, scores
from reports.cli.common import fail, stderr_console


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="a11ycrawl")
def cli() -> None:
    """a11ycrawl: crawl a website, audit every page with axe-core in headless Chromium,
    keep every result in SQLite, and score sites 0-10 over time.

    \b
    Examples:
      a11ycrawl demo                                 # three sample council sites, offline
      a11ycrawl audit https://www.example.gov.uk/ --max-pages 200
      a11ycrawl audit https://www.example.gov.uk/ --json run.json

    \b
    Exit codes: 0 done (check: gate passed), 1 check: gate failed,
                2 the tool could not do its job (bad usage, config, browser, site).
    """


for _command in (audit.audit, audit.demo, audit.close_cmd, scores.history_cmd, scores.league_cmd, scores.diff_cmd,
                 scores.rescore_cmd, outputs.report_cmd, outputs.export_cmd, check.check_cmd):
    cli.add_command(_command)


def main(argv=None) -> None:
    """Console entry point: usage errors and our own errors become one line and exit code 2."""
    try:
        cli.main(args=argv, prog_name="a11ycrawl", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        hint = f" (see 'a11ycrawl {exc.ctx.info_name} --help')" if exc.ctx and exc.ctx.info_name != "a11ycrawl" else " (see 'a11ycrawl --help')"
        fail(exc.format_message() + hint)
    except click.Abort:
        fail("aborted")
    except A11yCrawlError as exc:
        fail(str(exc))
    except Interrupted:
        stderr_console().print("[yellow]a11ycrawl: interrupted; what was audited is saved (and --json written, if "
                               "asked for). Continue with --resume.[/]", soft_wrap=True)
        sys.exit(130)
    except KeyboardInterrupt:
        stderr_console().print("[yellow]a11ycrawl: interrupted.[/]")
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except OSError as exc:  # e.g. --json into a folder that does not exist
        fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
    except Exception as exc:  # a bug: still one line, with what to report
        fail(f"internal error ({type(exc).__name__}: {exc}); please report it with the command you ran")
    sys.exit(0)


if __name__ == "__main__":
    main()
