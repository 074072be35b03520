"""Progress of a long decode, on stderr, whether or not stderr is a terminal.

On a terminal the line is rewritten in place; otherwise (a log file, a pipe, a CI job) a full
line is written every `every` sources or `seconds` seconds, and at the end, so that a decode
of thousands of sentences never runs silent. stdout stays clean for the outputs.

Example:

>>> progress = Progress(2750, stream=sys.stderr)
>>> progress.add(64)
"""

import sys
import time


class Progress:
    """Count decoded sources and report them on `stream` (stderr by default).

    Args:
        total: How many sources the decode has.
        stream: Where to write (default `sys.stderr`, looked up at each write).
        every: Off a terminal, write a line at least every this many sources...
        seconds: ...or after this many seconds, whichever comes first.
        label: The line's first word.
    """

    def __init__(self, total, stream=None, every=None, seconds=30.0, label="decode"):
        self.total, self.done = int(total), 0
        self.stream, self.label = stream, label
        self.every = every or max(1, self.total // 10)
        self.seconds = float(seconds)
        self.start = self.last_time = time.perf_counter()
        self.last_done = 0

    def _out(self):
        return self.stream if self.stream is not None else sys.stderr

    def line(self):
        """The current progress, e.g. `decode: 640/2750 sources (23%), 41 s`."""
        elapsed = time.perf_counter() - self.start
        share = 100.0 * self.done / self.total if self.total else 100.0
        return f"{self.label}: {self.done}/{self.total} sources ({share:.0f}%), {elapsed:.0f} s"

    def add(self, count):
        """Count `count` more decoded sources; write a line when it is time to."""
        self.done += int(count)
        out = self._out()
        now = time.perf_counter()
        finished = self.done >= self.total
        if getattr(out, "isatty", lambda: False)():
            out.write("\r" + self.line() + ("\n" if finished else ""))
            out.flush()
            return
        if (finished or self.done - self.last_done >= self.every
                or now - self.last_time >= self.seconds):
            out.write(self.line() + "\n")
            out.flush()
            self.last_done, self.last_time = self.done, now
