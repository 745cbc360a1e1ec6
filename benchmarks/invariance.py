"""Layout invariance: the same questions on the same documents in every layout must score the same.

The documents are SQuAD articles (``../shared/squad/dev``: each article's paragraphs in
order, one document per article), written in several forms:

- ``lines``: one paragraph per line (the layout the seeds have);
- ``wrapped``: each paragraph hard-wrapped at 72 columns (``textwrap``, as ``fmt`` does,
  no blank line between paragraphs: a paragraph ends where a short line is followed by
  a capitalised one);
- PDFs, one per article, written with fpdf2 (11 pt, justified, a running header and a
  page-number footer on every page, no title metadata) and read back by ``qa index`` like
  any PDF, in the layouts of ``PDF_LAYOUTS``:
  ``pdf`` single spacing with a gap after each paragraph; ``pdf-1.5`` and ``pdf-double``
  the same at 1.5 and double line spacing; ``pdf-2col`` two columns; ``pdf-indent``
  1.5 spacing, first lines indented and no gap between paragraphs (as theses are set).

Each form is indexed with the real model and asked the same questions through
``Assistant.ask``. R@1: the top citation overlaps the sentence that holds the answer
(the question set's evidence quote, found in each form's text with any whitespace
between its words). Answer accuracy: a gold answer is contained in the answer (the
shared checker's normalisation). The forms must agree within ``TOLERANCE``.

    pip install fpdf2            # (or: pip install -e '.[benchmarks]')
    python benchmarks/invariance.py                       # 6 articles, 300 questions, every form
    python benchmarks/invariance.py --articles 3 --questions 60 --out /tmp/inv
    python benchmarks/invariance.py --forms lines pdf-1.5  # some forms only

``--extractors`` also prints, for each PDF form, how many of the one-line form's
sentences each PDF text extractor reproduces (pypdf plain and layout mode,
pdfminer.six as ``qa`` reads PDFs): the measurement behind ``qa/pdf.py``.

``make_forms`` and ``score_forms`` are used by ``tests/test_invariance.py`` (a small version).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOLERANCE = 0.02
WIDTH = 72
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def load_articles(squad_dir: Path, n_articles: int) -> tuple[dict[str, list[dict]], dict[str, str]]:
    """``{title: [paragraph records in order]}`` of the first ``n_articles`` titles (sorted), and
    ``{paragraph id: title}``."""
    paragraphs = [json.loads(line) for line in (squad_dir / "corpus.jsonl").open(encoding="utf-8") if line.strip()]
    titles = sorted({p["title"] for p in paragraphs})[:n_articles]
    articles = {t: [p for p in paragraphs if p["title"] == t] for t in titles}
    return articles, {p["id"]: t for t, ps in articles.items() for p in ps}


def load_questions(squad_dir: Path, owner: dict[str, str], n_questions: int) -> list[dict]:
    """Every k-th question whose evidence lies in the chosen articles (a deterministic spread)."""
    found = []
    for line in (squad_dir / "questions.jsonl").open(encoding="utf-8"):
        q = json.loads(line)
        ev = q.get("evidence") or []
        if len(ev) == 1 and ev[0]["doc"] in owner and ev[0].get("quote") and q.get("answers"):
            found.append(q)
    step = max(1, len(found) // n_questions)
    return found[::step][:n_questions]


def file_name(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_")


#: The PDF forms: line spacing (a multiple of single spacing, 1.2 times the font size, as word
#: processors set it), columns, the gap after a paragraph (mm) and the indent of its first line (mm).
PDF_LAYOUTS = {
    "pdf": {"spacing": 1.0, "columns": 1, "gap": 4.0, "indent": 0.0},
    "pdf-1.5": {"spacing": 1.5, "columns": 1, "gap": 4.0, "indent": 0.0},
    "pdf-double": {"spacing": 2.0, "columns": 1, "gap": 4.0, "indent": 0.0},
    "pdf-2col": {"spacing": 1.0, "columns": 2, "gap": 4.0, "indent": 0.0},
    "pdf-indent": {"spacing": 1.5, "columns": 1, "gap": 0.0, "indent": 8.0},
}
FORMS = ("lines", "wrapped", *PDF_LAYOUTS)
SINGLE = 1.2


def write_pdf(
    path: Path, title: str, paragraphs: list[str], spacing: float = 1.0, columns: int = 1, gap: float = 4.0,
    indent: float = 0.0,
) -> None:
    """An A4 PDF of ``paragraphs`` in 11 pt DejaVu Sans, justified, with a running header (the title)
    and a page-number footer on every page, at ``spacing`` times single spacing, in ``columns``
    columns, ``gap`` mm after each paragraph and its first line indented by ``indent`` mm."""
    from fpdf import FPDF

    class Article(FPDF):
        def header(self):
            self.set_font("dejavu", size=8)
            self.cell(0, 6, f"{title} - collected articles", align="C")
            self.ln(10)

        def footer(self):
            self.set_y(-15)
            self.set_font("dejavu", size=8)
            self.cell(0, 10, f"{self.page_no()}", align="C")

    pdf = Article()
    pdf.add_font("dejavu", fname=FONT)
    # no title in the PDF's metadata: qa prefixes a document's real title to its sentences'
    # embeddings, which the text forms have not, and this compares layouts, not titles
    pdf.add_page()
    pdf.set_font("dejavu", size=11)
    with pdf.text_columns(ncols=columns, gutter=8, text_align="J", line_height=SINGLE * spacing) as cols:
        for text in paragraphs:
            with cols.paragraph(bottom_margin=gap, first_line_indent=indent) as paragraph:
                paragraph.write(text)
    pdf.output(str(path))


def make_forms(articles: dict[str, list[dict]], out: Path, forms=FORMS, pdf_writer=None) -> dict[str, Path]:
    """Write each article in each form under ``out/FORM/``; ``{form: folder}``. ``pdf_writer(path,
    title, paragraphs, spacing=, columns=, gap=, indent=)`` writes the PDF forms (``PDF_LAYOUTS``;
    default: ``write_pdf``, with fpdf2)."""
    pdf_writer = pdf_writer or write_pdf
    folders = {}
    for form in forms:
        folder = out / form
        folder.mkdir(parents=True, exist_ok=True)
        for title, records in articles.items():
            paragraphs = [" ".join(r["text"].split()) for r in records]
            if form == "lines":
                (folder / f"{file_name(title)}.txt").write_text("\n".join(paragraphs) + "\n", encoding="utf-8")
            elif form == "wrapped":
                wrapped = [textwrap.fill(p, WIDTH, break_on_hyphens=False, break_long_words=False) for p in paragraphs]
                (folder / f"{file_name(title)}.txt").write_text("\n".join(wrapped) + "\n", encoding="utf-8")
            else:
                pdf_writer(folder / f"{file_name(title)}.pdf", title, paragraphs, **PDF_LAYOUTS[form])
        folders[form] = folder
    return folders


#: Quote marks a PDF font may turn into one another (a Type 1 font's standard encoding reads ' as ’);
#: one character for one, so that offsets stay.
_SAME_QUOTES = str.maketrans("‘’“”", "''\"\"")


def quote_span(text: str, quote: str) -> tuple[int, int] | None:
    """Where ``quote`` is in ``text`` with any whitespace between its words (a line break, say)."""
    words = quote.translate(_SAME_QUOTES).split()
    if not words:
        return None
    m = re.search(r"\s+".join(re.escape(w) for w in words), text.translate(_SAME_QUOTES))
    return (m.start(), m.end()) if m else None


def score_form(assistant, questions: list[dict], owner: dict[str, str], doc_of_title: dict[str, str]) -> dict:
    from qa.evaluation.answers import score_answer

    texts = {d.id: assistant.store.text(d.id) for d in assistant.store.documents()}
    hits = correct = unmatched = 0
    times = []
    for q in questions:
        ev = q["evidence"][0]
        doc = doc_of_title[owner[ev["doc"]]]
        span = quote_span(texts[doc], ev["quote"])
        t0 = time.perf_counter()
        result = assistant.ask(q["question"])
        times.append(time.perf_counter() - t0)
        if span is None:
            unmatched += 1
        elif result.citations:
            top = result.citations[0]
            hits += top.doc == doc and top.start < span[1] and span[0] < top.end
        answer = result.answer.text if result.answer is not None else None
        correct += score_answer(answer, q["answers"])["contains"]
    n = len(questions)
    times.sort()
    return {
        "questions": n,
        "R@1": hits / n,
        "answer_accuracy": correct / n,
        "evidence_not_found": unmatched,
        "sentences": len(assistant.store),
        "p50_ms": 1000 * times[n // 2] if times else 0.0,
    }


def score_forms(folders: dict[str, Path], indexes: Path, questions, owner, quiet: bool = True) -> dict[str, dict]:
    """Index each form's folder (real model) and score the questions on it."""
    from qa import Assistant
    from qa.indexing import index_paths

    results = {}
    for form, folder in folders.items():
        index_dir = indexes / form
        t0 = time.perf_counter()
        index_paths([folder], index_dir, warn=lambda m: print(f"  warning: {m}", file=sys.stderr))
        took = time.perf_counter() - t0
        with Assistant.open(index_dir) as assistant:
            docs = {d.id: d for d in assistant.store.documents()}
            doc_of_title = {}
            for title in {owner[k] for k in owner}:
                doc_of_title[title] = next(i for i in docs if Path(i).stem == file_name(title))
            results[form] = score_form(assistant, questions, owner, doc_of_title)
            results[form]["index_s"] = took
        if not quiet:
            print(f"  {form}: {json.dumps(results[form])}", file=sys.stderr)
    return results


def extractor_agreement(folders: dict[str, Path]) -> dict[tuple[str, str], float]:
    """``{(PDF form, extractor): share}``: the share of the one-line form's sentences
    (whitespace-normalised) that each PDF text extractor's text, split by ``qa``'s segmenter,
    reproduces exactly."""
    import logging

    from pypdf import PdfReader

    from qa.pdf import pdf_text
    from qa.sentences import split_sentences

    logging.getLogger("pypdf").setLevel(logging.ERROR)

    def sentences(text: str) -> set[str]:
        return {" ".join(text[s:e].split()) for s, e in split_sentences(text)}

    extractors = {
        "pypdf (plain)": lambda p: "\n".join(pg.extract_text() or "" for pg in PdfReader(p).pages),
        "pypdf (layout mode)": lambda p: "\n".join(
            pg.extract_text(extraction_mode="layout") or "" for pg in PdfReader(p).pages
        ),
        "pdfminer.six, reflowed (qa/pdf.py)": lambda p: pdf_text(p)[0],
    }
    reference: dict[str, set[str]] = {}
    for path in sorted(folders["lines"].glob("*.txt")):
        reference[path.stem] = sentences(path.read_text(encoding="utf-8"))
    shares = {}
    for form, folder in folders.items():
        if form not in PDF_LAYOUTS:
            continue
        for name, extract in extractors.items():
            same = total = 0
            for path in sorted(folder.glob("*.pdf")):
                found = sentences(extract(path))
                same += len(reference[path.stem] & found)
                total += len(reference[path.stem])
            shares[(form, name)] = same / max(total, 1)
    return shares


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", type=Path, default=ROOT.parent / "shared" / "squad" / "dev")
    parser.add_argument("--articles", type=int, default=6)
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--out", type=Path, default=None, help="folder for the forms and indexes (default: a temp dir)")
    parser.add_argument("--extractors", action="store_true", help="also compare PDF text extractors")
    parser.add_argument("--forms", nargs="+", choices=FORMS, default=list(FORMS),
                        help="the forms to score (default: all; lines, the reference, always)")
    args = parser.parse_args()
    if not (args.squad / "corpus.jsonl").exists():
        print(f"{args.squad} not found (../shared/squad/dev)", file=sys.stderr)
        return 2
    out = args.out or Path(tempfile.mkdtemp(prefix="citeqa-invariance-"))
    articles, owner = load_articles(args.squad, args.articles)
    questions = load_questions(args.squad, owner, args.questions)
    print(f"{len(articles)} articles ({sum(map(len, articles.values()))} paragraphs), {len(questions)} questions; "
          f"files under {out}", file=sys.stderr)
    forms = ["lines", *(f for f in args.forms if f != "lines")]
    folders = make_forms(articles, out / "forms", forms=forms)
    if args.extractors:
        print("| PDF form | PDF text extractor | one-line form's sentences reproduced |\n|---|---|---|")
        for (form, name), share in extractor_agreement(folders).items():
            print(f"| {form} | {name} | {share:.3f} |")
        print()
    results = score_forms(folders, out / "indexes", questions, owner, quiet=False)
    base = results["lines"]
    print("| form | sentences | R@1 | answer accuracy | evidence not found | ΔR@1 | Δaccuracy | p50 ms |")
    print("|---|---|---|---|---|---|---|---|")
    ok = True
    for form, r in results.items():
        d1, da = r["R@1"] - base["R@1"], r["answer_accuracy"] - base["answer_accuracy"]
        ok &= abs(d1) <= TOLERANCE and abs(da) <= TOLERANCE
        print(f"| {form} | {r['sentences']} | {r['R@1']:.3f} | {r['answer_accuracy']:.3f} | "
              f"{r['evidence_not_found']} | {d1:+.3f} | {da:+.3f} | {r['p50_ms']:.1f} |")
    print(f"\nwithin {TOLERANCE} of the one-line form: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
