"""The "ok - ..." and "not ok - ..." lines the Python test programs print;
the shell suites count them."""


class Checks:
    def __init__(self, prefix=""):
        self.prefix = prefix
        self.failures = 0

    def __call__(self, what, ok, detail=None):
        if not ok:
            self.failures += 1
        shown = "" if ok or detail is None else f" (got {detail!r})"
        print(f"{'ok' if ok else 'not ok'} - {self.prefix}{what}{shown}", flush=True)

    def exit_status(self):
        return 1 if self.failures else 0
