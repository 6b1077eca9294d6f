# SPDX-License-Identifier: Apache-2.0
"""Stop requests (Ctrl-C, `make demo-stop`'s SIGTERM, a closed terminal's
SIGHUP) for the demo's supervisor.

The handlers only record the request; the supervisor acts on it where it can
stop cleanly: at each step, in every polling loop, while it waits for slio-perf
and while it watches the running demo. A handler that raised instead would
unwind from whatever Python code was running, locks half-taken included:
subprocess.Popen.poll() interrupted just after taking its _waitpid_lock leaves
the lock held, and the teardown's wait() on that daemon then blocks forever
(a CI run hung that way in test_demo_ctrl_c).

Waiting is on a wakeup pipe (signal.set_wakeup_fd) that the interpreter writes
for every handled signal, SIGCHLD included, whichever thread the kernel
delivered it to, so a wait never misses an exit or a request and costs no CPU.
"""
import faulthandler
import os
import select
import signal
import subprocess
import time

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stop(Exception):
    """SIGTERM/SIGHUP (make demo-stop, a closed terminal) or Ctrl-C; str() is its name."""


_requested = None
_wakeup_r = None


def _record(signum, frame):
    global _requested
    if _requested is None:  # the first request names the stop
        _requested = signal.Signals(signum).name


def _child_exited(signum, frame):
    pass  # handled at all only so that the interpreter writes the wakeup pipe


def install():
    """Called once, by the main thread, before any daemon or thread starts.
    SIGUSR1 prints every thread's stack to stderr (a demo that seems stuck)."""
    global _wakeup_r
    _wakeup_r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    for s in STOP_SIGNALS:
        signal.signal(s, _record)
    signal.signal(signal.SIGCHLD, _child_exited)
    faulthandler.register(signal.SIGUSR1, all_threads=True)


def requested():
    """The name of the signal that asked to stop, or None."""
    return _requested


def check():
    """Raise Stop if a stop was requested."""
    if _requested is not None:
        raise Stop(_requested)


def wait(timeout=None):
    """Block until a signal arrives (a stop request or a child's exit) or
    timeout seconds pass; then raise Stop if one was requested."""
    check()
    if _wakeup_r is None:  # not installed: a caller outside the supervisor
        if timeout is None:
            raise RuntimeError("interrupt.wait() forever needs interrupt.install() first")
        time.sleep(timeout)
        return
    readable, _, _ = select.select([_wakeup_r], [], [], timeout)
    if readable:
        _drain_wakeups()
    check()


def _drain_wakeups():
    try:
        while os.read(_wakeup_r, 512):
            pass
    except BlockingIOError:
        pass


def chunks(stream):
    """What a binary pipe carries, as it arrives, until its end; raises Stop
    when a stop is requested, also while nothing comes (a plain read would not
    notice: the handlers do not raise). Needs install()."""
    fd = stream.fileno()
    while True:
        check()
        readable, _, _ = select.select([fd, _wakeup_r], [], [])
        if _wakeup_r in readable:
            _drain_wakeups()
        if fd in readable:
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            yield chunk


def sleep(seconds):
    """time.sleep() that a stop request cuts short (raising Stop)."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        wait(left)


def run(argv, timeout):
    """subprocess.run(argv, capture_output=True, text=True, timeout=timeout),
    except that a stop request kills the command and raises Stop."""
    deadline = time.monotonic() + timeout
    with subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as p:
        while True:
            try:
                out, err = p.communicate(timeout=min(0.1, max(deadline - time.monotonic(), 0)))
                return subprocess.CompletedProcess(p.args, p.returncode, out, err)
            except subprocess.TimeoutExpired:
                if requested() is None and time.monotonic() < deadline:
                    continue
                p.kill()
                p.communicate()
                check()
                raise subprocess.TimeoutExpired(p.args, timeout) from None
