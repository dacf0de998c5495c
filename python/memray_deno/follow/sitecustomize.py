"""Start hook of `memray run --follow-fork` for Python programs that a followed process execs.

The followed root puts this file's directory first on PYTHONPATH (docs/architecture.md, "Following
children across exec"), so every Python interpreter started below it imports this module while
`site` initializes, before any code of the program runs. It removes its directory from sys.path
again, starts tracking through the launcher's own code (MEMRAYD_FOLLOW_BOOTSTRAP), and then runs
the sitecustomize module this one hides, if there is one.
"""


def _follow():
    import os
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [entry for entry in sys.path if not entry or os.path.abspath(entry) != here]
    bootstrap = os.environ.get("MEMRAYD_FOLLOW_BOOTSTRAP")
    if bootstrap and os.environ.get("MEMRAYD_FOLLOW_OUTPUT"):
        import importlib.util

        spec = importlib.util.spec_from_file_location("_memray_deno_bootstrap", bootstrap)
        if spec is not None and spec.loader is not None:
            launcher = importlib.util.module_from_spec(spec)
            try:
                spec.loader.exec_module(launcher)
                launcher.follow_exec_child()
            except Exception as error:  # the program must run even when following fails
                sys.stderr.write("memray: Cannot follow process %d: %s\n" % (os.getpid(), error))
    _chain()


def _chain():
    """Run the sitecustomize that this module shadows, as `site` would have."""
    import importlib.machinery
    import importlib.util
    import sys

    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", sys.path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


_follow()
