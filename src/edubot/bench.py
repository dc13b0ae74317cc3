"""Benchmarks behind ``edubot bench``: cold start, load, and scale.

Cold start runs ``edubot ask`` as a fresh process, as staff at a terminal
do, beside a bare ``import sentence_transformers`` in the same run.
The scale benchmark uses synthetic vectors and passages.

Each size runs in its own process, so the peak memory reported is that
size's alone. Synthetic vectors are drawn around cluster centres, as real
sentence embeddings are; uniformly random vectors would make every
approximate index look worse than it is on real text.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DIM = 384
QUERIES = 200


def synthetic_vectors(n: int, seed: int = 0, centres: int = 2000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centres, DIM)).astype(np.float32)
    out = np.empty((n, DIM), dtype=np.float32)
    step = 100_000
    for start in range(0, n, step):
        m = min(step, n - start)
        out[start : start + m] = c[rng.integers(0, centres, m)] + 0.7 * rng.standard_normal((m, DIM)).astype(np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def synthetic_passages(n: int, seed: int = 0, vocab: int = 30_000, length: int = 40) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    words = np.asarray([f"w{i}" for i in range(vocab)])
    ranks = np.minimum(rng.zipf(1.2, size=(n, length)) - 1, vocab - 1)
    return [list(words[row]) for row in ranks]


def _pcts(times: list[float]) -> dict:
    ms = np.asarray(times) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 3), "p95_ms": round(float(np.percentile(ms, 95)), 3)}


def _size_on_disk(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run_one(n: int, queries: int = QUERIES, nprobe: int = 64) -> dict:
    import faiss

    from .index import build_bm25, build_vectors

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    vectors = synthetic_vectors(n)
    rng = np.random.default_rng(1)
    q = vectors[rng.choice(n, queries, replace=False)] + 0.05 * rng.standard_normal((queries, DIM)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    result: dict = {"passages": n}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        exact = build_vectors(vectors, approximate=False)
        result["exact"] = {"build_s": round(time.perf_counter() - t0, 2)}
        faiss.write_index(exact, f"{tmp}/exact.faiss")
        result["exact"]["disk_mb"] = round(_size_on_disk(Path(f"{tmp}/exact.faiss")) / 2**20, 1)
        times, truth = [], []
        for v in q:
            t = time.perf_counter()
            _, ids = exact.search(v.reshape(1, -1), 10)
            times.append(time.perf_counter() - t)
            truth.append(set(ids[0].tolist()))
        result["exact"].update(_pcts(times))
        del exact

        t0 = time.perf_counter()
        approx = build_vectors(vectors, approximate=True, nprobe=nprobe)
        result["approximate"] = {"kind": f"IVF{approx.nlist},SQ8 nprobe={nprobe}", "build_s": round(time.perf_counter() - t0, 2)}
        faiss.write_index(approx, f"{tmp}/approx.faiss")
        result["approximate"]["disk_mb"] = round(_size_on_disk(Path(f"{tmp}/approx.faiss")) / 2**20, 1)
        times, recall = [], []
        for v, true in zip(q, truth):
            t = time.perf_counter()
            _, ids = approx.search(v.reshape(1, -1), 10)
            times.append(time.perf_counter() - t)
            recall.append(len(true & set(ids[0].tolist())) / 10)
        result["approximate"].update(_pcts(times))
        result["approximate"]["recall@10"] = round(float(np.mean(recall)), 4)
        del approx, vectors

        passages = synthetic_passages(n)
        t0 = time.perf_counter()
        bm25 = build_bm25(passages, 1.2, 0.75)
        result["bm25"] = {"build_s": round(time.perf_counter() - t0, 2)}
        bm25.save(f"{tmp}/bm25")
        result["bm25"]["disk_mb"] = round(_size_on_disk(Path(f"{tmp}/bm25")) / 2**20, 1)
        times = []
        for row in synthetic_passages(queries, seed=2, length=4):
            t = time.perf_counter()
            scores = bm25.get_scores(row)
            np.argpartition(-scores, 10)[:10]
            times.append(time.perf_counter() - t)
        result["bm25"].update(_pcts(times))
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


LOAD_QUESTIONS = (
    "what is osteonecrosis", "tantalum rod", "fat-derived stem cells", "was a biopsy done", "PRP injection for AVN",
    "are stem cell treatments FDA approved", "core decompression success", "how long does a hip replacement last",
    "symptoms of avascular necrosis", "steroids and bone death", "Hernigou bone marrow", "recipe for banana bread",
)


def run_load(answerer, threads: int = 8, per_thread: int = 200) -> dict:
    """Full answers (triage, retrieval, highlight, limitations) from many threads sharing one engine."""
    import threading

    for q in LOAD_QUESTIONS:  # warm the highlight cache, as a running server would be
        answerer.answer(q)
    serial = []
    for q in LOAD_QUESTIONS * 5:
        t = time.perf_counter()
        answerer.answer(q)
        serial.append(time.perf_counter() - t)
    latencies: list[float] = []
    lock = threading.Lock()

    def worker(offset: int) -> None:
        mine = []
        for i in range(per_thread):
            t = time.perf_counter()
            answerer.answer(LOAD_QUESTIONS[(offset + i) % len(LOAD_QUESTIONS)])
            mine.append(time.perf_counter() - t)
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    wall = time.perf_counter() - started
    return {"threads": threads, "questions": threads * per_thread, "wall_s": round(wall, 2),
            "throughput_qps": round(threads * per_thread / wall, 1),
            "serial": _pcts(serial), "concurrent": _pcts(latencies)}


COLD_QUESTION = "Was a biopsy done in the stem cell case report?"
# One word: triage does not run its language check (wordfreq), so this row is the engine alone.
COLD_KEYWORD = "osteonecrosis"


# Runs a command and reports its wall time, peak memory and exit code. It runs in a small process of
# its own: Linux counts the memory of the process a child was forked from in the child's peak, so a
# command started straight from a big process (a test run, the app) would report that process's size.
_MEASURE = """
import json, os, subprocess, sys, time
started = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
proc.returncode = os.waitstatus_to_exitcode(status)
sys.stderr.write(json.dumps([time.perf_counter() - started, usage.ru_maxrss / 1024, proc.returncode]))
"""


def _measure(argv: list[str]) -> tuple[float, float, int, str]:
    """Wall seconds, peak resident MB, exit code and standard output of one whole process."""
    proc = subprocess.run([sys.executable, "-c", _MEASURE, *argv], capture_output=True, text=True, check=False)
    wall, peak, code = json.loads(proc.stderr.strip().splitlines()[-1])
    return float(wall), float(peak), int(code), proc.stdout


def cold_start(ask_args: list[str], runs: int = 5, questions: tuple[str, ...] = (COLD_QUESTION, COLD_KEYWORD)) -> dict:
    """Cold ``edubot ask --json`` beside a bare ``import sentence_transformers``, whole processes.

    They take turns, so each sees the same load on a shared machine; one
    untimed round first fills the disk cache and leaves a fresh index.
    Medians of ``runs`` runs; peak memory is each process's maximum RSS.
    """
    commands = {f"ask {q}": [sys.executable, "-m", "edubot.cli", "ask", "--json", *ask_args, q] for q in questions}
    commands["import sentence_transformers"] = [sys.executable, "-c", "import sentence_transformers"]
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for i in range(runs + 1):
        for name, argv in commands.items():
            wall, peak, code, out = _measure(argv)
            if code != 0:
                raise RuntimeError(f"`{name}` failed with exit code {code}")
            if name.startswith("ask ") and json.loads(out.splitlines()[-1]).get("status") != "answered":
                raise RuntimeError(f"`edubot {name}` gave no answer")
            if i:  # the first round only warms up
                samples[name].append((wall, peak))
    rows: list[dict] = []
    for name, got in samples.items():
        rows.append({"command": name, "median_s": round(float(np.median([w for w, _ in got])), 3),
                     "median_peak_mb": round(float(np.median([m for _, m in got])), 1),
                     "seconds": [round(w, 3) for w, _ in got], "peak_mb": [round(m, 1) for _, m in got]})
    bare = float(rows[-1]["median_s"])
    for row in rows[:-1]:
        row["ratio_to_import"] = round(row["median_s"] / bare, 3)
    return {"runs": runs, "cpus": os.cpu_count(), "load_average": round(os.getloadavg()[0], 2), "rows": rows}


def format_cold(r: dict) -> str:
    lines = [f"cold start: whole processes, median of {r['runs']} runs, taking turns (load average {r['load_average']} on {r['cpus']} CPUs)"]
    for row in r["rows"]:
        ratio = f"  {row['ratio_to_import']:.2f} of the bare import" if "ratio_to_import" in row else ""
        lines.append(f"  {row['command']:<36} {row['median_s']:6.2f} s  peak {row['median_peak_mb']:5.0f} MB{ratio}")
    return "\n".join(lines)


def run(sizes: list[int], queries: int = QUERIES, nprobe: int = 64, on_result=None) -> list[dict]:
    """Each size in a fresh interpreter, so peak memory is measured per size."""
    results = []
    for n in sizes:
        proc = subprocess.run(
            [sys.executable, "-m", "edubot.bench", str(n), str(queries), str(nprobe)],
            capture_output=True, text=True, check=False,  # a failed size is reported, not raised
        )
        if proc.returncode != 0:
            tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
            result = {"passages": n, "error": tail[0]}
        else:
            result = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(result)
        if on_result:
            on_result(result)
    return results


def format_row(r: dict) -> str:
    if "error" in r:
        return f"{r['passages']:>9,}  failed: {r['error']}"
    e, a, b = r["exact"], r["approximate"], r["bm25"]
    return (f"{r['passages']:>9,}  exact: build {e['build_s']:>6.1f}s {e['disk_mb']:>7.1f}MB p50 {e['p50_ms']:>7.2f} p95 {e['p95_ms']:>7.2f} ms | "
            f"{a['kind']}: build {a['build_s']:>6.1f}s {a['disk_mb']:>6.1f}MB p50 {a['p50_ms']:>6.2f} p95 {a['p95_ms']:>6.2f} ms "
            f"recall@10 {a['recall@10']:.3f} | bm25: build {b['build_s']:>6.1f}s {b['disk_mb']:>6.1f}MB p95 {b['p95_ms']:>7.2f} ms | "
            f"peak {r['peak_rss_mb']:,.0f} MB")


if __name__ == "__main__":
    print(json.dumps(run_one(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))))
