# SPDX-License-Identifier: Apache-2.0
"""The demo's process supervisor: every daemon is an ordinary child process in
its own session (so a terminal's Ctrl-C reaches only the supervisor, which then
stops them in order), with a pidfile in <dir>/run/ and its log in <dir>/logs/.
`stop_detached()` is `make demo-stop`: it asks a running supervisor to stop and
sweeps whatever pidfiles a killed one left, checking each pid still belongs to
this demo (its command line names the demo directory) before signalling it.
"""
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import interrupt

STOP_TIMEOUT = 20  # seconds a daemon gets between SIGTERM and SIGKILL


class StepFailed(Exception):
    """A step went wrong; `log` is the file that says why (or None)."""

    def __init__(self, message, log=None):
        super().__init__(message)
        self.log = log


class Daemon:
    def __init__(self, name, argv, log, env=None):
        self.name, self.argv, self.log, self.env = name, [str(a) for a in argv], Path(log), env
        self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def logtail(self, lines=15):
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Supervisor:
    def __init__(self, root):
        self.root = Path(root)
        self.run = self.root / "run"
        self.logs = self.root / "logs"
        self.daemons = []
        self.owned = False  # the directory is this run's (made by prepare())

    def prepare(self):
        """A fresh demo directory; refuses to run over a live demo."""
        if running_supervisor(self.root):
            raise StepFailed(f"a demo is already running from {self.root}: "
                             f"stop it with `make demo-stop` (or tools/demo --stop)")
        sweep(self.root)  # what a killed earlier demo left
        self.owned = True
        self.run.mkdir(parents=True)
        self.logs.mkdir()
        (self.run / "supervisor.pid").write_text(f"{os.getpid()}\n")

    def start(self, name, argv, env=None):
        d = Daemon(name, argv, self.logs / f"{name}.log", env)
        with open(d.log, "w") as log:
            try:
                d.proc = subprocess.Popen(d.argv, stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True,
                                          env={**os.environ, **(env or {})})
            except OSError as e:
                raise StepFailed(f"cannot run {d.argv[0]}: {e.strerror}", d.log) from e
        (self.run / f"{name}.pid").write_text(f"{d.proc.pid}\n")
        self.daemons.append(d)
        return d

    def wait_ready(self, d, what, probe, timeout=20):
        """Poll probe() until it returns true; a daemon that exits fails at once."""
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            if not d.alive():
                raise StepFailed(f"{d.name} exited with status {d.proc.returncode} "
                                 f"before {what}:\n{d.logtail()}", d.log)
            try:
                if probe():
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise StepFailed(f"{d.name}: no {what} after {timeout} s", d.log)
            interrupt.sleep(delay)
            delay = min(delay * 2, 0.2)

    def wait_any(self):
        """Block, without polling, until one of the daemons exits (returned) or
        a stop is requested (interrupt.Stop raised)."""
        while True:
            d = next((d for d in self.daemons if not d.alive()), None)
            if d:
                return d
            interrupt.wait()  # SIGCHLD or a stop signal; either wakes it

    def stop_all(self, say=print):
        """Stop in reverse start order (CSI, agents, targets, controller)."""
        ok = True
        for d in reversed(self.daemons):
            rc = terminate(d.proc)
            (self.run / f"{d.name}.pid").unlink(missing_ok=True)
            if rc not in (0, -signal.SIGTERM):
                say(f"  {d.name} exited with status {rc} (log: {d.log})")
                ok = False
        self.daemons = []
        return ok

    def remove(self, keep_logs=False):
        """Remove the demo directory (all but logs/ when keep_logs), if it is ours."""
        if not self.owned:
            return
        if not keep_logs:
            shutil.rmtree(self.root, ignore_errors=True)
            return
        for p in self.root.iterdir():
            if p == self.logs:
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)


def terminate(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return -signal.SIGKILL
    return proc.returncode


def ours(pid, root):
    """True when pid is alive and an argument names the demo directory or a
    path inside it (every daemon's config or socket, the supervisor's --dir)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    root = str(root).encode()
    return any(a == root or a.startswith(root + b"/") or a.startswith(b"unix://" + root + b"/")
               for a in argv)


def read_pid(path):
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() and 0 < int(text) < 1 << 22 else None


def running_supervisor(root):
    pid = read_pid(Path(root) / "run" / "supervisor.pid")
    return pid if pid and pid != os.getpid() and ours(pid, root) else None


def exited(pid):
    """True when pid is gone or a zombie: a daemon whose supervisor was killed
    is reaped by init, which may take its time (seconds, on some machines), but
    a zombie holds no socket, file or port any more."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] == ["Z"]  # the state follows "(comm)"


def wait_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while not exited(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def sweep(root):
    """Kill every daemon a pidfile still names (if it is ours), remove the directory."""
    root = Path(root)
    for pidfile in sorted((root / "run").glob("*.pid")):
        pid = read_pid(pidfile)
        if pid and ours(pid, root):
            os.kill(pid, signal.SIGTERM)
            if not wait_gone(pid, STOP_TIMEOUT):
                os.kill(pid, signal.SIGKILL)
                wait_gone(pid, 5)
    shutil.rmtree(root, ignore_errors=True)


def stop_detached(root):
    """make demo-stop. Returns a line saying what was done."""
    root = Path(root)
    pid = running_supervisor(root)
    if pid:
        os.kill(pid, signal.SIGTERM)  # the supervisor stops its daemons in order and cleans up
        if not wait_gone(pid, STOP_TIMEOUT * 6):
            os.kill(pid, signal.SIGKILL)
            wait_gone(pid, 5)
    existed = root.exists()
    sweep(root)
    if pid:
        return f"demo-stop: the demo (supervisor pid {pid}) is stopped; {root} removed"
    if existed:
        return f"demo-stop: no demo was running; leftovers in {root} removed"
    return f"demo-stop: no demo was running ({root} does not exist)"
