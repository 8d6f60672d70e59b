"""Entry point of the feed-check helper process (`python -m federation.helper_process`, started by
`federation.prepare`): it keeps its stdout for the pipe to its caller, sets Django up, then serves."""

import os
import signal
import sys


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the worker, which closes the pipe
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # anything printed goes to stderr, not into the pipe
    import django  # lazy: set up only once stdout is safe from what it may print

    django.setup()
    from federation.prepare import serve  # lazy: its modules need the app registry django.setup() fills

    serve(out)


if __name__ == "__main__":
    main()
