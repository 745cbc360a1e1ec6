"""What a question scoped to one document costs against one over the whole library, on a library of
N generated documents of 20 sentences (built once in WORK with the tests' hash encoder, so that only
the search differs; the reader is the real one). Prints p50 over 16 questions, in the same process.

    python benchmarks/scope_cost.py [N=5000] [WORK=/tmp/citeqa-scope-N]
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

WORDS = ("harbour keeper light ship storm island gate tower river bridge mayor council ferry station winter "
         "summer").split()


def build(n_docs: int, work: Path) -> Path:
    from helpers_robust import HashEncoder

    from qa.documents import read_documents
    from qa.index import update_index

    folder, index = work / "docs", work / "index"
    if index.exists():
        return index
    rng = random.Random(0)
    folder.mkdir(parents=True, exist_ok=True)
    for d in range(n_docs):
        lines = [f"{rng.choice(WORDS).title()} {d} met the {rng.choice(WORDS)} of the {rng.choice(WORDS)} in "
                 f"{1800 + rng.randint(0, 200)}." for _ in range(20)]
        (folder / f"doc{d:06d}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    t0 = time.time()
    update_index(str(index), read_documents([folder]), HashEncoder, notify=lambda m: None)
    print(f"indexed {n_docs} documents in {time.time() - t0:.0f} s", file=sys.stderr)
    return index


def main() -> int:
    n_docs = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    work = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(tempfile.gettempdir()) / f"citeqa-scope-{n_docs}"
    from helpers_robust import HashEncoder

    from qa import Assistant

    with Assistant.open(build(n_docs, work), encoder=HashEncoder(), threshold=0.0) as assistant:
        one = assistant.store.documents()[n_docs // 2].id
        questions = [f"Who met the {w} of the tower?" for w in WORDS]
        for q in questions[:3]:  # warm up
            assistant.ask(q)
            assistant.ask(q, docs=[one])
        print(f"| ask ({n_docs} documents, {20 * n_docs} sentences) | p50 |")
        print("|---|---|")
        for name, scope in (("over the whole library", None), ("inside one document", [one])):
            ms = []
            for q in questions:
                t0 = time.perf_counter()
                assistant.ask(q, docs=scope)
                ms.append((time.perf_counter() - t0) * 1000)
            print(f"| {name} | {statistics.median(ms):.1f} ms |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
