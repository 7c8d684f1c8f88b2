"""One long-lived pytest session per hidden suite and grading process, serving submission after
submission.

Starting pytest costs about 45 ms a run (its config, ~25 plugins registered and scanned for
fixtures, the suite collected, every test's fixture closure computed): a third of a clean
submission's time. So each grading process runs ``pytest.main`` once per suite, in a thread of
its own, and the session's ``pytest_runtestloop`` (the hook pytest-xdist's workers use the
same way) takes submissions from a queue: for each, the plugin (:class:`HostPlugin`) registered
once is bound to that submission's worker session, seed and budgets, and every collected test
runs through pytest's own ``pytest_runtest_protocol``; the last one's teardown ends every
fixture, so no state carries from one submission to the next. The suite's module is imported
once, as before.

The caller's thread waits while its submission runs: one submission at a time per host.
pytest's terminal plugin is off (nothing to print, and it would keep every report).
"""

from __future__ import annotations

import contextlib
import io
import queue
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from grader.core.errors import HostGone
from grader.core.results import TestResult
from grader.submission.plugin import PYTEST_ARGS, BudgetSource, SuitePlugin, marked_budget
from grader.submission.proxy import StudentProxy
from grader.submission.session import WorkerSession

#: Hosts kept per process (one per suite graded; tests make more with their own courses).
MAX_HOSTS = 8
#: pytest's arguments without the terminal plugin's options (that plugin is off here).
HOST_ARGS = (*(arg for arg in PYTEST_ARGS if arg not in ("-q", "--tb=no")), "-p", "no:terminal")


@dataclass
class SuiteRun:
    """One submission's run: in (session, seed, device, budgets), out (results)."""

    session: WorkerSession
    seed: int
    device: str
    budgets: BudgetSource | None
    results: list[TestResult] = field(default_factory=list)
    #: Runs only the tests whose name it accepts (None: all), as ``pytest -k`` would.
    select: Callable[[str], bool] | None = None
    collection_errors: list[str] = field(default_factory=list)
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


class SuiteHost:
    """``pytest.main`` on one suite, in a daemon thread, running submissions as they come."""

    def __init__(self, suite: Path, rootdir: Path, inifile: Path) -> None:
        self.suite = suite
        _forget_other_suite_module(suite)
        self.inbox: queue.Queue[SuiteRun | None] = queue.Queue()
        self.plugin = HostPlugin(self.inbox)
        self.exit_code: Any = None
        args = [*HOST_ARGS, "--rootdir", str(rootdir), "-c", str(inifile), str(suite)]
        self.thread = threading.Thread(target=self._main, args=(args,), daemon=True,
                                       name=f"suite-host-{suite.stem}")
        self.thread.start()

    def _main(self, args: Sequence[str]) -> None:
        try:
            self.exit_code = pytest.main(list(args), plugins=[self.plugin])
        finally:
            self.plugin.closed = True
            self.plugin.collected.set()
            while True:  # whoever still waits learns that nothing will run
                try:
                    run = self.inbox.get_nowait()
                except queue.Empty:
                    break
                if run is not None:
                    run.error = HostGone(f"pytest ended ({self.exit_code})")
                    run.done.set()

    def alive(self) -> bool:
        return self.thread.is_alive() and not self.plugin.closed

    def run(self, run: SuiteRun) -> SuiteRun:
        """Run the suite for one submission; raises what the run raised (a grader bug)."""
        if not self.alive():
            raise HostGone(f"pytest ended ({self.exit_code})")
        self.inbox.put(run)
        while not run.done.wait(1.0):
            if not self.thread.is_alive():
                raise HostGone(f"pytest ended ({self.exit_code})")
        if run.error is not None:
            raise run.error
        return run

    def stop(self) -> None:
        self.inbox.put(None)
        self.thread.join(timeout=10)


class HostPlugin(SuitePlugin):
    """The plugin a host registers once; each submission binds it to its own run (its worker
    session, seed, device and budgets), as a GradingPlugin is for one submission."""

    def __init__(self, inbox: queue.Queue[SuiteRun | None]) -> None:
        super().__init__(0, "cpu")
        self.inbox = inbox
        self.closed = False
        self.collected = threading.Event()  # the suite collected (or pytest ended)
        self.run: SuiteRun | None = None
        self.proxy: StudentProxy | None = None

    def bind(self, run: SuiteRun) -> None:
        """Fixtures, budgets and results of ``run`` from now on."""
        self.start_submission(run.seed, run.device)
        self.run = run
        self.proxy = StudentProxy(run.session)
        self.collection_errors = run.collection_errors

    def budget_for(self, item: pytest.Item) -> float | None:
        marked = marked_budget(item)
        budgets = self.run.budgets if self.run is not None else None
        return marked if budgets is None else budgets.for_test(item.name, marked)

    def session_for(self, item: pytest.Item) -> WorkerSession | None:
        return self.run.session if self.run is not None else None

    def proxy_for(self, item: pytest.Item) -> StudentProxy:
        if self.proxy is None:
            raise RuntimeError("a suite host ran a test before a submission was bound")
        return self.proxy

    def pytest_configure(self, config: pytest.Config) -> None:
        super().pytest_configure(config)
        # --tb=no, an option of the terminal plugin that is off here: no failure is rendered
        # with the suite's source (the reports are never shown; feedback comes from classify)
        config.option.tbstyle = "no"

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        errors = list(self.collection_errors)
        items = list(session.items)
        self.collected.set()
        while (run := self.inbox.get()) is not None:
            try:
                run.collection_errors.extend(errors)
                self.bind(run)
                if not errors:
                    with contextlib.redirect_stdout(io.StringIO()), \
                            contextlib.redirect_stderr(io.StringIO()):
                        _run_items([item for item in items if run.select is None
                                    or run.select(item.name)])
                run.results = list(self.results)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                run.error = exc
            finally:
                run.done.set()
        return True


def _run_items(items: list[pytest.Item]) -> None:
    for index, item in enumerate(items):
        following = items[index + 1] if index + 1 < len(items) else None
        item.config.hook.pytest_runtest_protocol(item=item, nextitem=following)


def _forget_other_suite_module(suite: Path) -> None:
    """pytest imports a suite by its file's name (``test_activations``): a module of that name
    from another course's copy (graded earlier in this process) would make pytest refuse this
    one ("import file mismatch"). That module is dropped from sys.modules; its own host keeps
    the module object it runs."""
    loaded = sys.modules.get(suite.stem)
    where = getattr(loaded, "__file__", None)
    if loaded is not None and (where is None or Path(where).resolve() != suite.resolve()):
        del sys.modules[suite.stem]


_HOSTS: dict[tuple[Path, str], SuiteHost] = {}
_LOCK = threading.Lock()


#: (suite, suite hash, rootdir, inifile): what host_for takes
HostKey = tuple[Path, str, Path, Path]
_WARMING: threading.Thread | None = None


def warm_hosts(suites: Sequence[HostKey]) -> None:
    """Start the hosts of ``suites`` now, in a thread, one after another (each collected
    before the next starts, as when they start on first use), so that their collection runs
    while this thread waits for something else: one student's files, whose worker waits for
    the zygote's imports (issue 32). Any later :func:`host_for` waits for it first.

    Call it only when this process forks no more Python children while it runs (a fork while
    a suite is being imported could leave the child waiting on an import lock): the grading
    of one student's files reads every file first (grader.run.local)."""
    global _WARMING

    def warm() -> None:
        for key in suites:
            try:
                _host(*key).plugin.collected.wait()
            except Exception:  # noqa: BLE001 - the grading thread meets it again, and says it
                return

    settle_hosts()
    _WARMING = threading.Thread(target=warm, daemon=True, name="suite-hosts-warming")
    _WARMING.start()


def settle_hosts() -> None:
    """Wait until no suite is being collected in the background (see :func:`warm_hosts`)."""
    warming = _WARMING
    if warming is not None and warming is not threading.current_thread():
        warming.join()


def host_for(suite: Path, suite_hash: str, rootdir: Path, inifile: Path) -> SuiteHost:
    """This process's host of ``suite`` as it is (``suite_hash``), started on first use and
    again if it ended."""
    settle_hosts()
    return _host(suite, suite_hash, rootdir, inifile)


def _host(suite: Path, suite_hash: str, rootdir: Path, inifile: Path) -> SuiteHost:
    key = (suite, suite_hash)
    with _LOCK:
        host = _HOSTS.get(key)
        if host is None or not host.alive():
            _HOSTS.pop(key, None)
            if len(_HOSTS) >= MAX_HOSTS:
                _HOSTS.pop(next(iter(_HOSTS))).stop()
            host = _HOSTS[key] = SuiteHost(suite, rootdir, inifile)
        return host

