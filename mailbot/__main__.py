"""`python -m mailbot` and the `mailbot` command (its entry point).

Nothing is imported at the top: the analysis worker is spawned by re-running the command's script,
which imports this module, so anything imported here would sit in the worker's memory too (the
whole CLI: ~50 MB). The CLI is loaded only when the command runs.
"""


def main() -> int:
    from mailbot.cli import main as run_cli

    return run_cli()


if __name__ == "__main__":
    raise SystemExit(main())
