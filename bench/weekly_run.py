"""A whole weekly run, embedded model included, measured: wall time, seconds and tokens per
stage, and the peak memory of the whole process tree against the 2 GB budget.

    .venv/bin/python bench/weekly_run.py [--warm] [--use-configured-llm] [--top-k 5] [--burn 2]

Serves the shared one-week arXiv mirror (../shared/fixtures/week) on 127.0.0.1, then runs
`python -m flows.cli run --start 2026-11-16 --end 2026-11-22 --no-pr` as a subprocess with a
fresh cache (nothing cached; `--warm` reuses <repo>/.cache/bench-weekly-run) and a fresh
PREFECT_HOME. OPENAI_API_KEY / OPENAI_BASE_URL are removed so the embedded SmolLM2 model is
used, unless --use-configured-llm. PREFECT_API_URL, if set, is kept: the flow then reports to
that server, which is not part of the measured tree.

With --burn N it keeps N cores busy while the run goes on: N CPU-bound processes it starts
before the run and stops after it (each also stops on its own after --timeout seconds), as on a
shared machine. It prints the sections the model wrote, the seconds per section, and whether
the goal (every section written by the model within --goal-seconds) was met.

Every --interval seconds it sums the resident memory (VmRSS, and PSS from smaps_rollup, which
shares common pages fairly) of every process descended from the run: the flow, the ephemeral
Prefect server, llama_cpp.server, the PDF workers and the figure extractors. RSS counts a page
shared by two processes twice, so the RSS sum is the conservative figure checked against the
budget. Settings that change memory (TOP5_OFFLINE_N_CTX, TOP5_OFFLINE_THREADS, ...)
are taken from the environment and printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BANNER = "OFFLINE DRAFT"
# what changes the run's memory, printed with the result (name, what unset means)
MEMORY_SETTINGS = (
    ("TOP5_OFFLINE_N_CTX", "unset (8192)"),
    ("TOP5_OFFLINE_THREADS", "unset"),
    ("TOP5_LLM_CONCURRENCY", "unset (4)"),
    ("PREFECT_API_URL", "unset (ephemeral server)"),
)
KINDS = ("flow", "prefect server", "llama_cpp.server", "pdf worker", "figure extractor", "other")


# --------------------------------------------------------------------------- /proc sampling

@dataclass(frozen=True)
class Proc:
    pid: int
    kind: str
    rss_kb: int
    pss_kb: int | None
    cmd: str


def _children_map() -> dict[int, list[int]]:
    """ppid -> child pids, from /proc/*/stat (processes may vanish while we read)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # the command name in parentheses may itself hold spaces or ')': split after the last ')'
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def tree(root: int) -> list[int]:
    """`root` and all its descendants."""
    children, found, todo = _children_map(), [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _kb(path: str, key: str) -> int | None:
    try:
        with open(path, "rb") as handle:
            for line in handle:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def kind_of(cmd: str, pid: int, root: int) -> str:
    if pid == root:
        return "flow"
    if "llama_cpp.server" in cmd:
        return "llama_cpp.server"
    if "prefect.server" in cmd or "prefect server" in cmd:
        return "prefect server"
    if "flows.pdf.pool import serve" in cmd:
        return "pdf worker"
    if "flows.pdf.figures" in cmd:
        return "figure extractor"
    return "other"


def read_proc(pid: int, root: int, pss: bool) -> Proc | None:
    """One process's memory, or None if it is gone (or a kernel thread with no RSS)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            cmd = handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return None
    rss = _kb(f"/proc/{pid}/status", b"VmRSS:")
    if rss is None:
        return None
    proportional = _kb(f"/proc/{pid}/smaps_rollup", b"Pss:") if pss else None
    return Proc(pid, kind_of(cmd, pid, root), rss, proportional, cmd)


@dataclass
class Peaks:
    samples: int = 0
    rss_kb: int = 0  # peak of the summed RSS
    pss_kb: int = 0  # peak of the summed PSS
    at_seconds: float = 0.0
    at_peak: list[Proc] = field(default_factory=list)
    per_kind_kb: dict[str, int] = field(default_factory=dict)  # peak of each kind's summed RSS
    per_kind_count: dict[str, int] = field(default_factory=dict)  # most processes of a kind at once
    errors: int = 0


class Sampler(threading.Thread):
    """Samples the process tree of `root` every `interval` s until stop()."""

    def __init__(self, root: int, interval: float, pss: bool = True):
        super().__init__(daemon=True, name="rss-sampler")
        self.root, self.interval, self.pss = root, interval, pss
        self.peaks = Peaks()
        self._done = threading.Event()
        self._began = time.perf_counter()

    def stop(self) -> Peaks:
        self._done.set()
        self.join()
        return self.peaks

    def run(self) -> None:
        while not self._done.is_set():
            try:
                self.sample()
            except Exception:  # a sampler that dies would report a wrong peak: count and go on
                self.peaks.errors += 1
            self._done.wait(self.interval)

    def sample(self) -> None:
        procs = [p for p in (read_proc(pid, self.root, self.pss) for pid in tree(self.root)) if p]
        if not procs:
            return
        peaks = self.peaks
        peaks.samples += 1
        rss = sum(p.rss_kb for p in procs)
        peaks.pss_kb = max(peaks.pss_kb, sum(p.pss_kb or 0 for p in procs))
        if rss > peaks.rss_kb:
            peaks.rss_kb, peaks.at_peak = rss, procs
            peaks.at_seconds = time.perf_counter() - self._began
        for kind in KINDS:
            mine = [p for p in procs if p.kind == kind]
            if mine:
                peaks.per_kind_kb[kind] = max(peaks.per_kind_kb.get(kind, 0), sum(p.rss_kb for p in mine))
                peaks.per_kind_count[kind] = max(peaks.per_kind_count.get(kind, 0), len(mine))


# --------------------------------------------------------------------------- the run

def run_environment(args, arxiv, cache_dir: Path, prefect_home: Path) -> dict[str, str]:
    env = dict(os.environ)
    if not args.use_configured_llm:
        env.pop("OPENAI_API_KEY", None)
        env.pop("OPENAI_BASE_URL", None)
    env.update(
        ARXIV_API_URL=arxiv.api_url,
        ARXIV_PDF_URL=arxiv.pdf_url,
        ARXIV_DELAY_SECONDS=args.arxiv_delay,
        TOP5_CACHE_DIR=str(cache_dir),
        PREFECT_HOME=str(prefect_home),
        PYTHONUNBUFFERED="1",
    )
    return env


def run_flow(args, env: dict[str, str], digests: Path, log_path: Path) -> tuple[int, float, Peaks]:
    command = [sys.executable, "-m", "flows.cli", "run", "--start", args.start, "--end", args.end,
               "--top-k", str(args.top_k), "--no-pr", "--digests-dir", str(digests)]
    print("run:", " ".join(command[1:]), flush=True)
    began = time.perf_counter()
    with open(log_path, "wb") as log:
        # its own session, so an interrupted bench can stop the whole tree it started
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        sampler = Sampler(process.pid, args.interval)
        sampler.start()
        try:
            code = process.wait(timeout=args.timeout)
        except (KeyboardInterrupt, subprocess.TimeoutExpired) as exc:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            if isinstance(exc, KeyboardInterrupt):
                raise
            print(f"run: killed after --timeout {args.timeout:g} s", file=sys.stderr)
            code = process.returncode
        finally:
            peaks = sampler.stop()
    return code, time.perf_counter() - began, peaks


# --------------------------------------------------------------------------- the load

def start_burners(count: int, seconds: float) -> list[subprocess.Popen]:
    """`count` processes that each keep one core busy for at most `seconds`."""
    spin = f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"
    return [subprocess.Popen([sys.executable, "-c", spin], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL) for _ in range(count)]


def stop_burners(burners: list[subprocess.Popen]) -> None:
    for burner in burners:
        burner.terminate()
    for burner in burners:
        try:
            burner.wait(timeout=10)
        except subprocess.TimeoutExpired:
            burner.kill()
            burner.wait()


# --------------------------------------------------------------------------- the report

def mb(kb: int) -> str:
    return f"{kb / 1024:,.0f} MB"


def report_memory(peaks: Peaks, budget_mb: int, interval: float) -> bool:
    print(f"\nmemory ({peaks.samples} samples every {interval:g} s"
          + (f", {peaks.errors} sampler errors" if peaks.errors else "") + ")")
    print(f"  peak summed RSS {mb(peaks.rss_kb)} at {peaks.at_seconds:.1f} s"
          f"  (peak summed PSS {mb(peaks.pss_kb)})")
    print("  at that moment:")
    for proc in sorted(peaks.at_peak, key=lambda p: -p.rss_kb):
        pss = f"PSS {mb(proc.pss_kb):>8}" if proc.pss_kb is not None else ""
        print(f"    {proc.kind:<17} pid {proc.pid:<7} RSS {mb(proc.rss_kb):>8}  {pss}  {proc.cmd[:70]}")
    print("  peak per kind (summed over its processes; most processes at once):")
    for kind in KINDS:
        if kind in peaks.per_kind_kb:
            print(f"    {kind:<17} {mb(peaks.per_kind_kb[kind]):>8}  x{peaks.per_kind_count[kind]}")
    return peaks.samples > 0 and peaks.rss_kb / 1024 <= budget_mb


def report_draft(digests: Path) -> bool:
    """Seconds and tokens per stage from run.json; whether README.md has the banner."""
    runs = sorted(digests.glob("*/run.json"))
    if not runs:
        print(f"\ndraft: no run.json under {digests}")
        return False
    folder = runs[0].parent
    record = json.loads(runs[0].read_text(encoding="utf-8"))
    print(f"\ndraft {folder}")
    llm = record.get("llm", {})
    print(f"  llm: offline={llm.get('offline')} models={llm.get('models')}")
    print(f"  counts: {record.get('counts')}")
    print("  seconds per stage: " + ", ".join(f"{k} {v:.1f}" for k, v in record.get("seconds", {}).items()))
    print("  tokens per stage (requests / cached / prompt / completion / USD):")
    for stage, usage in record.get("tokens", {}).items():
        print(f"    {stage:<10} {usage['requests']:>3} / {usage['cached']:>3} / "
              f"{usage['prompt_tokens']:>6} / {usage['completion_tokens']:>6} / {usage['cost_usd']:.4f}")
    counts = record.get("counts", {})
    written, fell_back = counts.get("sections_by_model", 0), counts.get("sections_fallback", 0)
    sections = written + fell_back
    per_section = record.get("seconds", {}).get("summaries", 0.0) / sections if sections else 0.0
    print(f"  sections: {written} of {sections} written by the model, {fell_back} fell back to the paper's "
          f"own words; {per_section:.1f} s per section (summaries stage / sections)")
    readme = folder / "README.md"
    banner = readme.is_file() and BANNER in readme.read_text(encoding="utf-8")
    print(f"  README.md has the {BANNER} banner: {'yes' if banner else 'no'}")
    return banner


def report_goal(digests: Path, top_k: int, wall: float, goal: float) -> None:
    runs = sorted(digests.glob("*/run.json"))
    counts = json.loads(runs[0].read_text(encoding="utf-8")).get("counts", {}) if runs else {}
    written = counts.get("sections_by_model", 0)
    met = written == top_k and wall <= goal
    print(f"\ngoal {'met' if met else 'missed'}: {written}/{top_k} sections written by the model in "
          f"{wall:.0f} s (goal: {top_k}/{top_k} within {goal:.0f} s)")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=REPO.parent / "shared" / "fixtures" / "week")
    parser.add_argument("--start", default="2026-11-16")
    parser.add_argument("--end", default="2026-11-22")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--warm", action="store_true",
                        help="reuse the cache in <repo>/.cache/bench-weekly-run (PDFs, LLM answers)")
    parser.add_argument("--use-configured-llm", action="store_true",
                        help="keep OPENAI_API_KEY / OPENAI_BASE_URL instead of the embedded model")
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between memory samples")
    parser.add_argument("--budget-mb", type=int, default=2048)
    parser.add_argument("--arxiv-delay", default="0.05", help="ARXIV_DELAY_SECONDS for the run")
    parser.add_argument("--timeout", type=float, default=1800, help="kill the run after this many seconds")
    parser.add_argument("--keep", action="store_true", help="keep the draft and the run's log")
    parser.add_argument("--burn", type=int, default=0, help="cores to keep busy with CPU burners during the run")
    parser.add_argument("--goal-seconds", type=float, default=900, help="wall time goal for the whole run")
    return parser.parse_args()


def _served_run(args, cache: Path, work: Path, digests: Path, log_path: Path) -> tuple[int, float, Peaks]:
    """The run against the arXiv mirror on 127.0.0.1, under the load --burn asks for."""
    from tests.arxiv_server import ArxivServer

    with ArxivServer((args.mirror / "api-week.xml").read_bytes(), args.mirror / "pdf") as arxiv:
        env = run_environment(args, arxiv, cache, work / "prefect")
        llm = ("configured: " + (env.get("OPENAI_BASE_URL") or "OpenAI")) if (
            env.get("OPENAI_API_KEY") or env.get("OPENAI_BASE_URL")) else "embedded SmolLM2-135M"
        print(f"weekly_run: LLM {llm}; cache {'warm ' if args.warm else 'fresh '}{cache}")
        print("  " + "; ".join(f"{name}={env.get(name, default)}" for name, default in MEMORY_SETTINGS))
        burners = start_burners(args.burn, args.timeout)
        print(f"  load: {args.burn} CPU burner(s) running" if burners else "  load: none added")
        try:
            return run_flow(args, env, digests, log_path)
        finally:
            stop_burners(burners)


def main() -> int:
    args = _arguments()
    if not (args.mirror / "api-week.xml").exists():
        print(f"weekly_run: no arXiv mirror at {args.mirror} (expected api-week.xml and pdf/)",
              file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="top5-weekly-run-"))
    cache = REPO / ".cache" / "bench-weekly-run" if args.warm else work / "cache"
    digests, log_path = work / "digests", work / "run.log"
    try:
        code, wall, peaks = _served_run(args, cache, work, digests, log_path)
        print(f"\nexit code {code}; wall time {wall:.1f} s")
        if code != 0:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-25:]
            print("  the run's output ends with:\n    " + "\n    ".join(tail))
        report_draft(digests)
        report_goal(digests, args.top_k, wall, args.goal_seconds)
        within = report_memory(peaks, args.budget_mb, args.interval)
        passed = within and code == 0
        print(f"\n{'PASS' if passed else 'FAIL'}: peak summed RSS {mb(peaks.rss_kb)} "
              f"{'<=' if within else '>'} budget {args.budget_mb:,} MB"
              + ("" if code == 0 else f"; but the run failed (exit code {code})"))
        if args.keep:
            print(f"\nkept: {digests}, {log_path}")
        return 0 if passed else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
