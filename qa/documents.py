"""Reading documents from files and folders: text, Markdown, HTML, PDF, JSONL corpora.

A document's id is its path relative to the PATH given (``/``-separated), or the
record id for JSONL corpora. ``Document.text`` is the text that citation offsets
index into: the UTF-8 file as is, the JSONL ``text`` field exactly, or the text
extracted from HTML and PDF (which the index stores).

Bad files never abort reading: each one produces a warning through ``warn``.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from qa.jsonl import BadLine, parse_object

MARKDOWN_SUFFIXES = {".md", ".markdown"}
TEXT_SUFFIXES = {".txt"} | MARKDOWN_SUFFIXES
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
JSONL_SUFFIXES = {".jsonl"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | JSONL_SUFFIXES

WarnFn = Callable[[str], None]


@dataclass
class Document:
    id: str
    text: str
    path: str
    title: str | None = None
    format: str = "text"
    #: For PDFs: ``(start, end)`` character span of each page in ``text``.
    pages: list[tuple[int, int]] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class ReadReport:
    documents: int = 0
    skipped: int = 0
    unsupported: int = 0


class SkipFile(Exception):
    """Raised by a reader to skip one file with a reason."""


def _looks_binary(data: bytes) -> bool:
    return b"\x00" in data[:8192]


def _decode(data: bytes) -> str:
    if _looks_binary(data):
        raise SkipFile("binary file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SkipFile(f"invalid UTF-8 at byte {e.start}") from None


def _read_text(path: Path, doc_id: str) -> Iterator[Document]:
    text = _decode(path.read_bytes())
    if text.startswith("\ufeff"):  # a BOM is not part of the text a reader sees
        text = text[1:]
    format = "markdown" if path.suffix.lower() in MARKDOWN_SUFFIXES else "text"
    yield Document(id=doc_id, text=text, path=str(path), format=format)


def _read_html(path: Path, doc_id: str) -> Iterator[Document]:
    import trafilatura

    html = _decode(path.read_bytes())
    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True)
    meta = trafilatura.extract_metadata(html)
    title = meta.title if meta is not None and meta.title else None
    yield Document(id=doc_id, text=text or "", path=str(path), title=title, format="html")


def _read_pdf(path: Path, doc_id: str) -> Iterator[Document]:
    import logging

    from pypdf import PdfReader

    from qa.pdf import pdf_text

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    try:
        text, pages = pdf_text(path)
        metadata = PdfReader(path).metadata
        title = str(metadata.title) if metadata is not None and metadata.title else None
    except OSError:
        raise
    except Exception as e:  # a damaged PDF: pdfminer and pypdf raise many kinds of errors on one
        raise SkipFile(f"unreadable PDF ({type(e).__name__}: {e})") from None
    yield Document(id=doc_id, text=text, path=str(path), title=title, format="pdf", pages=pages)


def _read_jsonl(path: Path, doc_id: str, warn: WarnFn) -> Iterator[Document]:
    seen: set[str] = set()
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            where = f"{path}:{lineno}"
            if not raw.strip():
                continue
            try:
                record = parse_object(raw.decode("utf-8-sig" if lineno == 1 else "utf-8"))  # (a BOM may lead)
            except UnicodeDecodeError:
                warn(f"{where}: skipped: invalid UTF-8")
                continue
            except BadLine as e:
                warn(f"{where}: skipped: {e}")
                continue
            rid = record.get("id", record.get("_id"))
            text = record.get("text")
            title = record.get("title")
            if not isinstance(rid, (str, int)) or isinstance(rid, bool) or str(rid) == "":
                warn(f"{where}: skipped: missing or invalid \"id\"")
                continue
            if not isinstance(text, str):
                warn(f"{where}: skipped: missing or non-string \"text\"")
                continue
            if not text.strip():
                warn(f"{where}: skipped: empty text")
                continue
            rid, text = _no_surrogates(str(rid)), _no_surrogates(text)
            title = _no_surrogates(title) if isinstance(title, str) else title
            if rid in seen:
                warn(f"{where}: skipped: duplicate id {rid!r}")
                continue
            seen.add(rid)
            yield Document(
                id=rid,
                text=text,
                path=str(path),
                title=title if isinstance(title, str) and title else None,
                format="jsonl",
            )


_SURROGATE = re.compile("[\ud800-\udfff]")


def _no_surrogates(text: str) -> str:
    """Lone surrogates (from JSON escapes such as ``\\ud800``) cannot be stored as UTF-8:
    each becomes U+FFFD, so the text keeps its length and offsets."""
    return _SURROGATE.sub("\ufffd", text)


def _walk(root: Path, warn: WarnFn) -> Iterator[Path]:
    """Files under ``root``, sorted, not following symlinked folders (no loops)."""

    def onerror(e: OSError) -> None:
        warn(f"{e.filename}: skipped: cannot read folder ({e.strerror})")

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror, followlinks=False):
        dirnames.sort()
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name


def read_documents(
    paths: Iterable[str | os.PathLike[str]],
    warn: WarnFn = lambda msg: None,
    report: ReadReport | None = None,
) -> Iterator[Document]:
    """Yield the documents found under ``paths`` (files or folders, walked recursively)."""
    report = report if report is not None else ReadReport()
    for given in paths:
        root = Path(given)
        if root.is_dir():
            files = ((p, p.relative_to(root).as_posix()) for p in _walk(root, warn))
        elif root.exists():
            files = iter([(root, root.name)])
        else:
            raise FileNotFoundError(str(root))
        for path, doc_id in files:
            suffix = path.suffix.lower()
            if suffix not in SUPPORTED_SUFFIXES:
                report.unsupported += 1
                continue
            if not _is_utf8(str(path)):  # the name holds bytes that are not UTF-8: no id for it
                report.skipped += 1
                shown = str(path).encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
                warn(f"{shown}: skipped: the file name is not valid UTF-8 (rename the file)")
                continue
            yield from _read_one(path, doc_id, suffix, warn, report)


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _read_one(path: Path, doc_id: str, suffix: str, warn: WarnFn, report: ReadReport) -> Iterator[Document]:
    try:
        if not path.is_file():
            raise SkipFile("not a regular file")
        if suffix in JSONL_SUFFIXES:
            docs = _read_jsonl(path, doc_id, warn)
        elif suffix in HTML_SUFFIXES:
            docs = _read_html(path, doc_id)
        elif suffix in PDF_SUFFIXES:
            docs = _read_pdf(path, doc_id)
        else:
            docs = _read_text(path, doc_id)
        found = 0
        for doc in docs:
            if not doc.text.strip():
                if doc.format == "jsonl":
                    continue
                raise SkipFile("no text" if path.stat().st_size else "empty file")
            found += 1
            report.documents += 1
            yield doc
        if suffix in JSONL_SUFFIXES and not found:
            raise SkipFile("no valid records")
    except SkipFile as e:
        report.skipped += 1
        warn(f"{path}: skipped: {e}")
    except OSError as e:
        report.skipped += 1
        warn(f"{path}: skipped: cannot read ({e.strerror or e})")
