"""Exit statuses of the `kazkor` command (defined once; ``kazkor run``, doctor and the CLI return them)."""

EXIT_OK = 0
EXIT_FAILURE = 1  # something failed: a check, a post, a platform that could not start
EXIT_USAGE = 2  # the command or the configuration is wrong: a restart cannot fix it (systemd does not retry)
EXIT_INTERRUPTED = 130  # the shell's convention for a process stopped by Ctrl-C (128 + SIGINT)
