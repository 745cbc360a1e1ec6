"""TREC run files: ``qid Q0 docno rank score tag``, one retrieved unit a line."""

from __future__ import annotations

from pathlib import Path

from qa.errors import BadInputError


def monotone(scores: list[float], step: float = 1e-6) -> list[float]:
    """Scores made strictly decreasing down the ranking, so trec_eval reads the run in our order."""
    out: list[float] = []
    for s in scores:
        s = float(s)
        if out and s >= out[-1]:
            s = out[-1] - step
        out.append(s)
    return out


def write_run(path: str | Path, run: dict[str, list[tuple[str, float]]], tag: str) -> None:
    """Write ``{qid: [(docno, score), ...best first]}``; scores must already be decreasing."""
    tag = "".join(tag.split()) or "citeqa"
    try:
        with open(path, "w", encoding="utf-8") as f:
            for qid, ranking in run.items():
                for rank, (docno, score) in enumerate(ranking, 1):
                    f.write(f"{qid} Q0 {docno} {rank} {score:.8f} {tag}\n")
    except OSError as e:
        raise BadInputError(f"cannot write {path}: {e.strerror}") from None


def read_run(path: str | Path) -> dict[str, dict[str, float]]:
    """Read a TREC run file into ``{qid: {docno: score}}``."""
    path = Path(path)
    run: dict[str, dict[str, float]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise BadInputError(f"cannot read {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise BadInputError(f"{path}: not a UTF-8 text file") from None
    for lineno, line in enumerate(lines, 1):
        parts = line.split()
        if not parts:
            continue
        try:
            if len(parts) != 6:
                raise ValueError
            run.setdefault(parts[0], {})[parts[2]] = float(parts[4])
        except ValueError:
            raise BadInputError(f"{path} line {lineno}: expected QID Q0 DOCNO RANK SCORE TAG") from None
    if not run:
        raise BadInputError(f"{path}: empty run file")
    return run
