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
from qa.wording import counted

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


#: The formats ``--ext`` can map a file type to, by the extension that reads them.
FORMATS = {"txt": ".txt", "md": ".md", "html": ".html", "pdf": ".pdf", "jsonl": ".jsonl"}
#: Bytes of a file without an extension read to decide whether it is UTF-8 text.
SNIFF_BYTES = 8192


@dataclass
class ReadReport:
    documents: int = 0
    skipped: int = 0
    unsupported: int = 0
    #: files of an unknown type, by type (``file_type``): their paths, in the order found
    unknown: dict[str, list[str]] = field(default_factory=dict)

    def note_unknown(self, kind: str, path: Path) -> None:
        self.unsupported += 1
        self.unknown.setdefault(kind, []).append(str(path))


def file_type(path: Path) -> str:
    """What ``--ext`` matches: the extension without its dot (``bin``), or the whole name of a
    file without one (``README``)."""
    return path.suffix.lower().lstrip(".") or path.name


def _sniffed_text(path: Path) -> bool:
    """Does a file without an extension look like UTF-8 text (no NUL, valid UTF-8 up front)?"""
    try:
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
    except OSError:
        return False
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start >= len(head) - 3  # only a character cut at the end of the sample
    return True


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


def _read_text(path: Path, doc_id: str, suffix: str) -> Iterator[Document]:
    text = _decode(path.read_bytes())
    if text.startswith("\ufeff"):  # a BOM is not part of the text a reader sees
        text = text[1:]
    format = "markdown" if suffix in MARKDOWN_SUFFIXES else "text"
    yield Document(id=doc_id, text=text, path=str(path), format=format)


def _read_html(path: Path, doc_id: str) -> Iterator[Document]:
    import trafilatura

    from qa.html_text import page_text

    html = _decode(path.read_bytes())
    meta = trafilatura.extract_metadata(html)
    title = meta.title if meta is not None and meta.title else None
    yield Document(id=doc_id, text=page_text(html), path=str(path), title=title, format="html")


def _read_pdf(path: Path, doc_id: str) -> Iterator[Document]:
    import logging

    from pypdf import PdfReader

    from qa.pdf import check_size, pdf_text

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    try:
        reader = PdfReader(path)
        check_size(reader)
        metadata = reader.metadata
        title = str(metadata.title) if metadata is not None and metadata.title else None
        text, pages = pdf_text(path)
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
    formats: dict[str, str] | None = None,
) -> Iterator[Document]:
    """Yield the documents found under ``paths`` (files or folders, walked recursively).

    ``formats`` maps a ``file_type`` (``bin``, ``README``) to one of ``FORMATS`` (``txt``): such
    files are read in that format. Files without an extension are read as text when they look
    like UTF-8 text; other files of unknown type are counted in ``report.unknown``.
    """
    report = report if report is not None else ReadReport()
    formats = {k.lower().lstrip("."): v for k, v in (formats or {}).items()}
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
            kind = file_type(path)
            if kind.lower() in formats:
                suffix = FORMATS[formats[kind.lower()]]
            elif not suffix and _sniffed_text(path):
                suffix = ".txt"
            if suffix not in SUPPORTED_SUFFIXES:
                report.note_unknown(kind, path)
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
            docs = _read_text(path, doc_id, suffix)
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


def unknown_summary(report: ReadReport, shown: int = 3) -> str | None:
    """One line on the files of unknown type, by type with the first few names, and how to read them."""
    if not report.unknown:
        return None
    kinds = sorted(report.unknown.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    parts = []
    for kind, paths in kinds:
        names = ", ".join(Path(p).name for p in paths[:shown]) + (", ..." if len(paths) > shown else "")
        label = f".{kind}" if kind.lower() == Path(paths[0]).suffix.lower().lstrip(".") else kind
        parts.append(f"{len(paths)} {label} ({names})")
    example = kinds[0][0]
    return (
        f"{counted(report.unsupported, 'file')} of unknown type not read: {'; '.join(parts)}. "
        f"To read them as text, add --ext {example}=txt (formats: {', '.join(FORMATS)})"
    )
