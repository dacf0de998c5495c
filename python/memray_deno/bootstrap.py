"""Launcher that `memray run` starts inside the real Python interpreter.

The CLI runs ``python bootstrap.py CONFIG_JSON [SCRIPT_ARGS...]`` with the engine library
preloaded (LD_PRELOAD). This file validates the target, starts tracking through the engine's C ABI
(``memrayd_start``/``memrayd_stop``, reached with ``ctypes.PyDLL(None)`` so the GIL stays held),
runs the target the way ``python script.py`` / ``python -m mod`` / ``python -c cmd`` would, and
stops tracking. Its own frames and runpy's are hidden from tracebacks and, through the
``bootstrap_file`` metadata key, from reports.

It must stay self-contained (stdlib only): ``sys.path[0]`` is replaced by the target's directory.
Everything it imports before the target runs is start-up time of every run: it imports neither
``json`` nor ``ast`` (both import ``re``, 5-25 ms on an interpreter whose ``site`` has not imported
it already) and ``runpy`` only for ``-m``.
"""

import ctypes
import os
import sys
import threading

try:
    from _json import encode_basestring_ascii as _json_string
except ImportError:  # an interpreter without the C accelerator: the json module has it in Python
    from json.encoder import py_encode_basestring_ascii as _json_string

_EXIT_ERROR = 1
# ast.PyCF_ONLY_AST: compile() then only parses, as ast.parse does, without importing ast (2 ms).
_PYCF_ONLY_AST = 0x400
_FLAG_NATIVE = 1 << 0
_FLAG_TRACE_PYTHON_ALLOCATORS = 1 << 1
_FLAG_FOLLOW_FORK = 1 << 2
# The engine's allocator names are those of the capture format (docs/capture-format.md).
_ALLOCATOR_NAMES = {
    "pymalloc": "pymalloc",
    "pymalloc_debug": "pymalloc_debug",
    "malloc": "malloc",
    "mimalloc": "mimalloc",
    "mimalloc_debug": "mimalloc_debug",
}


def _load_config(text):
    """The CLI's configuration (argv[1]): a JSON object, as launch.ts writes it with
    JSON.stringify. Such JSON is also a Python expression once `true`, `false` and `null` are
    names, so it is read with compile() instead of the json module. Anything but plain data (a name
    other than those three, a call, a function) is refused."""
    literals = {"true": True, "false": False, "null": None}
    try:
        code = compile(text, "<memray config>", "eval", dont_inherit=True)
    except (SyntaxError, ValueError):
        code = None
    if code is None or not set(code.co_names) <= set(literals) or any(
        isinstance(constant, type(code)) for constant in code.co_consts
    ):
        _fail("Cannot read the launcher configuration: it is not a JSON object")
    config = eval(code, {"__builtins__": {}, **literals})
    if not isinstance(config, dict):
        _fail("Cannot read the launcher configuration: it is not a JSON object")
    return config


def _json_text(value):
    """JSON text of metadata: str, bool, None, int, list/tuple and dict with str keys."""
    if isinstance(value, str):
        return _json_string(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_json_text(item) for item in value) + "]"
    if isinstance(value, dict):
        items = (_json_string(str(key)) + ":" + _json_text(item) for key, item in value.items())
        return "{" + ",".join(items) + "}"
    raise TypeError("metadata value of type %s is not JSON" % type(value).__name__)


def _fail(message):
    """Print one line the way the CLI prints its errors and leave with status 1."""
    sys.stderr.write("memray: %s\n" % message)
    sys.stderr.flush()
    raise SystemExit(_EXIT_ERROR)


def _validate_target(mode, target):
    """Refuse targets that are not Python before anything of the user's runs (as memray)."""
    if mode == "module":
        return
    try:
        if mode == "command":
            source = target.encode("utf-8")
        else:
            with open(target, "rb") as source_file:
                source = source_file.read()
        compile(source, "<unknown>", "exec", _PYCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError):
        _fail("Only valid Python files or commands can be executed under memray")
    except OSError as error:
        _fail(str(error))


def _output_path(config):
    """The capture path; the default name carries this process's pid, known only here."""
    if config.get("output") is not None:
        return config["output"]
    name = "%s.%d.bin" % (config["default_output_stem"], os.getpid())
    return os.path.join(config["default_output_dir"], name)


def _python_allocator():
    try:
        current = ctypes.pythonapi._PyMem_GetCurrentAllocatorName
    except AttributeError:
        return "other"
    current.restype = ctypes.c_char_p
    current.argtypes = []
    name = current()
    if name is None:
        return "other"
    return _ALLOCATOR_NAMES.get(name.decode("ascii", "replace"), "other")


def _site_packages():
    try:
        import site

        return list(site.getsitepackages())
    except Exception:  # site may be stubbed by virtualenv tools; the key is optional.
        return []


def _metadata(config, argv):
    import sysconfig

    return {
        "tool": config.get("tool", "memray-deno"),
        "command_line": " ".join(argv),
        "argv": list(argv),
        "python_version": "%d.%d.%d" % sys.version_info[:3],
        "python_executable": sys.executable,
        "python_allocator": _python_allocator(),
        "bootstrap_file": _BOOTSTRAP_FILE,
        "libdest": sysconfig.get_paths()["stdlib"],
        "site_packages": _site_packages(),
        "sys_path": list(sys.path),
        "follow_fork": bool(config.get("follow_fork")),
    }


class _Engine:
    """The preloaded engine's C ABI (docs/architecture.md)."""

    def __init__(self, process):
        self._start = process.memrayd_start
        self._stop = process.memrayd_stop
        self._set_thread_name = process.memrayd_set_thread_name
        self._last_error = process.memrayd_last_error
        # Older engines lack it: renames from other threads are then dropped.
        self._set_thread_name_for = getattr(process, "memrayd_set_thread_name_for", None)
        if self._set_thread_name_for is not None:
            self._set_thread_name_for.argtypes = [ctypes.c_uint64, ctypes.c_char_p]
            self._set_thread_name_for.restype = ctypes.c_int
        self._start.argtypes = [ctypes.c_char_p, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_uint64]
        self._start.restype = ctypes.c_int
        self._stop.argtypes = []
        self._stop.restype = ctypes.c_int
        self._set_thread_name.argtypes = [ctypes.c_char_p]
        self._set_thread_name.restype = None
        self._last_error.argtypes = []
        self._last_error.restype = ctypes.c_char_p
        self.active = False

    @classmethod
    def load(cls):
        """The engine preloaded into this interpreter, or None."""
        try:
            return cls(ctypes.PyDLL(None))
        except AttributeError:
            return None

    def try_start(self, path, flags, metadata):
        """Start tracking into `path`; None, or why it could not start."""
        code = self._start(
            os.fsencode(path), flags, _json_text(metadata).encode("utf-8"), sys.hexversion
        )
        if code != 0:
            reason = self._last_error()
            return reason.decode("utf-8", "replace") if reason else os.strerror(code)
        self.active = True
        return None

    def start(self, path, flags, metadata):
        reason = self.try_start(path, flags, metadata)
        if reason is not None:
            _fail("Cannot start tracking into %s: %s" % (path, reason))

    def stop(self):
        if self.active:
            self.active = False
            self._stop()

    def set_thread_name(self, name):
        if self.active and name is not None:
            self._set_thread_name(str(name).encode("utf-8", "replace"))

    def set_thread_name_for(self, ident, name):
        """Name another running thread (applied at its next record)."""
        if self.active and name is not None and self._set_thread_name_for is not None:
            self._set_thread_name_for(ident, str(name).encode("utf-8", "replace"))


def _install_thread_naming(engine):
    """Name engine threads after their `threading.Thread`, at start and on every rename.

    A thread is named from `_set_ident`, which `_bootstrap_inner` calls on the new thread and
    which returns before `run()` starts, so no frame of this file stays on its stacks."""
    thread_class = threading.Thread
    original_set_ident = thread_class._set_ident
    original_name = thread_class.name

    def _set_ident(self):
        original_set_ident(self)
        try:
            engine.set_thread_name(self._name)
        except Exception:  # naming is best effort; never break the user's thread
            pass

    def _set_name(self, name):
        original_name.fset(self, name)
        ident = self._ident
        if ident is None:  # not started: named when it starts
            return
        try:
            if ident == threading.get_ident():
                engine.set_thread_name(self._name)
            elif self.is_alive():
                engine.set_thread_name_for(ident, self._name)
        except Exception:
            pass

    thread_class._set_ident = _set_ident
    thread_class.name = property(original_name.fget, _set_name, doc=original_name.__doc__)


def _install_traceback_trimming(mode):
    """Hide the launcher's frames (this file, and runpy's with -m) at the head of uncaught
    tracebacks."""
    launcher_files = {_BOOTSTRAP_FILE}
    if mode == "module":  # only -m runs through runpy; importing it costs 1-2 ms otherwise
        import runpy

        # From 3.11 runpy is frozen and its code objects say "<frozen runpy>".
        launcher_files.add(runpy.run_path.__code__.co_filename)
    original_hook = sys.excepthook

    def _excepthook(exc_type, exc_value, exc_traceback):
        trimmed = exc_traceback
        while trimmed is not None and trimmed.tb_frame.f_code.co_filename in launcher_files:
            trimmed = trimmed.tb_next
        if trimmed is None:  # the error is the launcher's own: show everything
            trimmed = exc_traceback
        if isinstance(exc_value, BaseException):
            exc_value.__traceback__ = trimmed
        original_hook(exc_type, exc_value, trimmed)

    sys.excepthook = _excepthook


def _should_modify_sys_path():
    return not sys.flags.isolated and not getattr(sys.flags, "safe_path", False)


def _prepare_target(mode, target, script_args):
    """Set sys.path[0] and sys.argv as memray's `_run_tracker` does (commands/run.py)."""
    if mode == "module":
        if _should_modify_sys_path():
            sys.path[0] = os.getcwd()
        sys.argv = ["", *script_args]  # run_module replaces argv[0] with the module's path
    elif mode == "command":
        if _should_modify_sys_path():
            sys.path[0] = ""
        sys.argv = ["-c", *script_args]
    else:
        if _should_modify_sys_path():
            sys.path[0] = os.path.dirname(os.path.realpath(target))
        sys.argv = [target, *script_args]


def _load_target(mode, target):
    """The target, ready to run as `python -m mod`, `python -c cmd` or `python file` would run it
    (-m with runpy, as memray). Scripts are compiled here, before tracking starts, so that reports
    show the program's allocations rather than the compiler's."""
    if mode == "module":

        def run_module():
            import runpy

            try:
                runpy.run_module(target, run_name="__main__", alter_sys=True)
            except ImportError as error:
                if error.name in (None, target):
                    raise _TargetNotFound(str(error))
                raise

        return run_module
    if mode == "command":
        command = compile(target, "<string>", "exec")
        return lambda: _exec_as_main(command, {})
    # Python 3.9+ runs a script under its absolute path (__file__, tracebacks) while argv[0]
    # keeps the path as given; runpy.run_path would make both the same, so run it here.
    from importlib.machinery import SourceFileLoader

    path = os.path.abspath(target)
    with open(path, "rb") as source_file:
        code = compile(source_file.read(), path, "exec", dont_inherit=True)
    loader = SourceFileLoader("__main__", path)
    return lambda: _exec_as_main(code, {"__file__": path, "__cached__": None, "__loader__": loader})


def _exec_as_main(code, attributes):
    """Run `code` in a fresh `__main__` module, as the interpreter runs a script or -c."""
    main_module = type(sys)("__main__")
    main_module.__dict__.update(attributes)
    saved_main = sys.modules["__main__"]
    sys.modules["__main__"] = main_module
    try:
        exec(code, main_module.__dict__)
    finally:
        sys.modules["__main__"] = saved_main


class _TargetNotFound(Exception):
    """`-m module` names a module that cannot be imported."""


def _argv_for_metadata(mode, target, script_args):
    if mode == "module":
        return ["-m", target, *script_args]
    if mode == "command":
        return ["-c", target, *script_args]
    return [target, *script_args]


def _flags(config):
    flags = 0
    if config.get("native"):
        flags |= _FLAG_NATIVE
    if config.get("trace_python_allocators"):
        flags |= _FLAG_TRACE_PYTHON_ALLOCATORS
    if config.get("follow_fork"):
        flags |= _FLAG_FOLLOW_FORK
    return flags


def _post_run_message(config, path):
    return (
        "[memray] Successfully generated profile results.\n\n"
        "You can now generate reports from the stored allocation records.\n"
        "Some example commands to generate reports:\n\n"
        "%s %s" % (config.get("hint_command", "memray stats"), path)
    )


def _main():
    config = _load_config(sys.argv[1])
    script_args = sys.argv[2:]
    mode, target = config["mode"], config["target"]
    quiet = bool(config.get("quiet"))
    _validate_target(mode, target)
    engine = _Engine.load()
    if engine is None:
        _fail(
            "The memray engine is not loaded into this interpreter "
            "(run the program with `memray run`, which preloads libmemrayd.so)"
        )
    path = _output_path(config)
    if not config.get("force") and os.path.lexists(path):
        _fail(
            "Output file %s already exists. Memray can overwrite it with the --force CLI argument."
            % path
        )
    if not quiet:
        print("Writing profile results into %s" % path)
    argv = _argv_for_metadata(mode, target, script_args)
    _install_thread_naming(engine)
    _install_traceback_trimming(mode)
    _prepare_target(mode, target, script_args)
    pid = os.getpid()
    if config.get("follow_fork"):
        _pass_follow_settings(config, path)
    run_target = _load_target(mode, target)
    engine.start(path, _flags(config), _metadata(config, argv))
    target_found = True
    try:
        run_target()
    except _TargetNotFound as error:
        target_found = False
        engine.stop()
        if pid == os.getpid():
            try:
                os.unlink(path)  # nothing of the user's ran: the capture is meaningless
            except OSError:
                pass
        _fail(str(error))
    finally:
        engine.stop()
        if target_found and not quiet and pid == os.getpid():
            print(_post_run_message(config, path))
            sys.stdout.flush()


def _pass_follow_settings(config, path):
    """Hand --follow-fork on to the Python programs this one execs, directly or through other
    programs: the preloaded engine keeps LD_PRELOAD and MEMRAYD_* in every descendant, and the
    start hook on PYTHONPATH (follow/sitecustomize.py) calls `follow_exec_child` in each Python."""
    hook_dir = config.get("follow_hook_dir") or os.path.join(os.path.dirname(_BOOTSTRAP_FILE), "follow")
    python_path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = hook_dir if not python_path else hook_dir + os.pathsep + python_path
    os.environ["MEMRAYD_FOLLOW_OUTPUT"] = os.path.abspath(path)
    os.environ["MEMRAYD_FOLLOW_FLAGS"] = str(_flags(config))
    os.environ["MEMRAYD_FOLLOW_BOOTSTRAP"] = os.path.abspath(_BOOTSTRAP_FILE)
    os.environ["MEMRAYD_FOLLOW_TOOL"] = config.get("tool", "memray-deno")


def follow_exec_child():
    """Track this process, a Python program exec'd below a --follow-fork run, into
    `<output>.<pid>` until the interpreter finalizes (called by follow/sitecustomize.py)."""
    import atexit

    engine = _Engine.load()
    if engine is None:  # the environment was changed on the way: nothing to follow with
        return
    path = "%s.%d" % (os.environ["MEMRAYD_FOLLOW_OUTPUT"], os.getpid())
    config = {"tool": os.environ.get("MEMRAYD_FOLLOW_TOOL", "memray-deno"), "follow_fork": True}
    metadata = _metadata(config, list(sys.argv))
    del metadata["bootstrap_file"]  # no launcher frames stand below this program's own
    metadata["parent_pid"] = os.getppid()
    flags = int(os.environ.get("MEMRAYD_FOLLOW_FLAGS", "0")) | _FLAG_FOLLOW_FORK
    reason = engine.try_start(path, flags, metadata)
    if reason is not None:
        sys.stderr.write("memray: Cannot follow process %d: %s\n" % (os.getpid(), reason))
        return
    _install_thread_naming(engine)
    # Registered first, so it runs last: after the program's own exit handlers.
    atexit.register(engine.stop)


_BOOTSTRAP_FILE = _main.__code__.co_filename

if __name__ == "__main__":
    _main()
