"""SQLite FTS5's bm25() against bm25s for the local index's lexical search (issue 17 asked
whether FTS5 should replace the layered bm25s reading).

    python benchmarks/fts5_bm25.py            # the ~100k-sentence benchmark corpus (../shared)
    python benchmarks/fts5_bm25.py --size 20000

Both index the same terms (citeqa's tokenizer: stemmed, stop words dropped; FTS5 gets them
joined by spaces). Prints, for questions of NarrativeQA and BoolQ: query time p50/p95 of each
(bm25s: score every row and take the top 50; FTS5: MATCH the terms OR-ed, ORDER BY bm25()
LIMIT 50), the overlap of their top-10 and top-50, and build time and size.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import corpora  # noqa: E402
from speed import eval_questions  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=corpora.SIZES["100k"], help="sentences")
    p.add_argument("--questions", type=int, default=200)
    args = p.parse_args()
    if not corpora.have_shared_data():
        print(f"needs {corpora.EVAL}", file=sys.stderr)
        return 2
    from qa.index.bm25 import BM25Index, query_terms, tokenize
    from qa.sentences import split_sentences

    texts = []
    for doc in corpora.corpus(args.size):
        texts.extend(doc.text[s:e] for s, e in split_sentences(doc.text, doc.format))
        if len(texts) >= args.size:
            break
    texts = texts[: args.size]
    ids = list(range(1, len(texts) + 1))

    t = time.perf_counter()
    bm25 = BM25Index.build(texts, ids)
    bm25s_build = time.perf_counter() - t
    work = Path(tempfile.mkdtemp())
    bm25.save(work / "bm25")
    bm25s_bytes = sum(f.stat().st_size for f in (work / "bm25").iterdir())

    t = time.perf_counter()
    db = sqlite3.connect(work / "fts.sqlite")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(terms, tokenize='unicode61')")
    terms = tokenize(texts)
    db.executemany("INSERT INTO t (rowid, terms) VALUES (?, ?)", ((i, " ".join(ts)) for i, ts in zip(ids, terms)))
    db.commit()
    fts_build = time.perf_counter() - t
    fts_bytes = (work / "fts.sqlite").stat().st_size

    questions = eval_questions(args.questions)
    b_times, f_times, over10, over50 = [], [], [], []
    for q in questions:
        qt = list(dict.fromkeys(query_terms(q)))
        if not qt:
            continue
        t = time.perf_counter()
        scores = bm25.scores(q)
        top_ids, _ = bm25.top(scores, 50)
        b_times.append((time.perf_counter() - t) * 1000)
        match = " OR ".join(f'"{x}"' for x in qt)
        t = time.perf_counter()
        rows = db.execute("SELECT rowid FROM t WHERE t MATCH ? ORDER BY bm25(t) LIMIT 50", (match,)).fetchall()
        f_times.append((time.perf_counter() - t) * 1000)
        a, b = [int(i) for i in top_ids], [r[0] for r in rows]
        over10.append(len(set(a[:10]) & set(b[:10])) / max(1, min(10, len(a))))
        over50.append(len(set(a) & set(b)) / max(1, len(a)))

    def pct(x, q):
        return float(np.percentile(x, q))

    print(f"| {len(texts)} sentences, {len(b_times)} questions | bm25s (today) | SQLite FTS5 bm25() |")
    print("|---|---|---|")
    print(f"| query p50 / p95 | {pct(b_times, 50):.1f} / {pct(b_times, 95):.1f} ms "
          f"| {pct(f_times, 50):.1f} / {pct(f_times, 95):.1f} ms |")
    print(f"| build | {bm25s_build:.1f} s | {fts_build:.1f} s |")
    print(f"| size | {bm25s_bytes / 2**20:.1f} MiB | {fts_bytes / 2**20:.1f} MiB |")
    print(f"| top-10 / top-50 overlap with bm25s | | {statistics.mean(over10):.3f} / {statistics.mean(over50):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
