"""Layout invariance, the small version of ``benchmarks/invariance.py`` (issues 16 and 22): the
seed articles as one paragraph per line, hard-wrapped at 72 columns, and as PDFs (with a running
header and page numbers) at single, 1.5 and double spacing, in two columns and with indented first
lines answer the seeds dev questions the same, within .02 on R@1 and answer accuracy. The real
model; the PDFs are written by ``tests/make_pdf.py`` (no PDF library needed)."""

from __future__ import annotations

import json
import sys

from conftest import DATA, ROOT, SEEDS
from make_pdf import write_paragraphs

sys.path.insert(0, str(ROOT / "benchmarks"))
import invariance  # noqa: E402

#: Helvetica in a bare PDF writes Latin-1: the same text goes into every form, so the typographic
#: quotes and dashes are written as ASCII in all three.
ASCII = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "—": "-", "–": "-"})


def seeds_pdf(path, title, paragraphs, spacing, columns, gap, indent):
    """A benchmark PDF layout (``invariance.PDF_LAYOUTS``, gap and indent in mm) set by ``make_pdf``."""
    mm = 72 / 25.4
    write_paragraphs(
        path, paragraphs, leading=12 * 1.2 * spacing, gap=gap * mm, indent=indent * mm, columns=columns,
        header="Collected seed articles", footer="Page {page}",
    )


def test_seeds_score_the_same_in_every_layout(tmp_path):
    articles, owner = {}, {}
    for path in sorted(SEEDS.glob("*.txt")):
        paragraphs = [line.strip().translate(ASCII) for line in path.read_text(encoding="utf-8").splitlines()]
        articles[path.stem] = [{"text": p} for p in paragraphs if p]
        owner[path.name] = path.stem
    questions = []
    for line in (DATA / "seeds-dev.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        ev = q.get("evidence") or []
        if len(ev) == 1 and ev[0].get("quote") and q.get("answers"):
            ev[0]["quote"] = ev[0]["quote"].translate(ASCII)
            questions.append(q)
    assert len(questions) >= 20
    folders = invariance.make_forms(articles, tmp_path / "forms", pdf_writer=seeds_pdf)
    results = invariance.score_forms(folders, tmp_path / "indexes", questions, owner)
    base = results["lines"]
    assert base["evidence_not_found"] == 0 and base["R@1"] > 0.8
    for form in invariance.FORMS[1:]:
        r = results[form]
        assert r["evidence_not_found"] == 0, form
        assert abs(r["R@1"] - base["R@1"]) <= invariance.TOLERANCE, (form, results)
        assert abs(r["answer_accuracy"] - base["answer_accuracy"]) <= invariance.TOLERANCE, (form, results)
