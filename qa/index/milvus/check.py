"""``qa index --check milvus:...``: counts, content hashes, spans, sentence ids and vector norms."""

from __future__ import annotations

import numpy as np

from qa.index.milvus.reader import MilvusIndex


def check_milvus(where):
    """What ``qa index --check milvus:...`` lists: the state, counts, content hashes, spans,
    vector norms (``qa.index.check.CheckReport``)."""
    import hashlib

    from qa.index.check import CheckReport

    report = CheckReport(where.text)
    index = MilvusIndex.open(where)  # unreachable, missing or foreign: one line, exit 3
    try:
        report.generation = index.generation
        docs = index.documents()
        report.documents = len(docs)
        if len(docs) != int(index.state["documents"]):
            report.problems.append(f"{len(docs)} documents, the state says {index.state['documents']}")
        spans: dict[str, dict[int, tuple[int, int]]] = {}
        n = 0
        bad_norms = 0
        for r in index.iter_rows("sentences", index.live_filter, ["id", "doc", "start", "end", "dense"]):
            n += 1
            spans.setdefault(r["doc"], {})[r["id"]] = (r["start"], r["end"])
            if abs(float(np.linalg.norm(np.asarray(r["dense"], np.float32))) - 1.0) > 1e-3:
                bad_norms += 1
        report.sentences = report.vectors = n
        if n != len(index):
            again = " (rows stored twice: the next qa index repairs them)" if n > len(index) else ""
            report.problems.append(f"{n} sentence rows, the state says {len(index)} sentences{again}")
        if bad_norms:
            report.problems.append(f"{bad_norms} sentence vector(s) are not unit length")
        for info in docs:
            text = index.text(info.id)
            if hashlib.sha256(text.encode("utf-8")).hexdigest() != info.sha256:
                report.problems.append(f"{info.id}: the stored text does not match its sha256")
            mine = spans.get(info.id, {})
            if sorted(mine) != index.sentence_ids(info.id):
                report.problems.append(f"{info.id}: its sentence rows are not the ids its document row names")
            for s, e in mine.values():
                if not 0 <= s < e <= len(text) or not text[s:e].strip():
                    report.problems.append(f"{info.id}: a sentence span {s}..{e} is not inside its text")
                    break
        orphans = set(spans) - {d.id for d in docs}
        if orphans:
            report.problems.append(f"{len(orphans)} document(s) have sentences but no text")
    finally:
        index.close()
    return report
