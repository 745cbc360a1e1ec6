"""Reading documents from files and folders: text, Markdown, HTML, PDF, JSONL corpora.

A document's id is its path relative to the PATH given (``/``-separated), or the
record id for JSONL corpora. ``Document.text`` is the text that citation offsets
index into: the decoded file as is, the JSONL ``text`` field exactly, or the text
extracted from HTML and PDF (which the index stores).

Text and HTML files are decoded by their byte-order mark (UTF-8, UTF-16 or UTF-32, the
mark left out), else as UTF-8, else as Windows-1252 (which Latin-1 text reads as too) when
that gives text: only printable characters and white space, and no UTF-8 sequence (a UTF-8
file with a bad byte is skipped, not read as mojibake). Files read as Windows-1252 are
listed in ``ReadReport.guessed``.

Bad files never abort reading: each one produces a warning through ``warn``.
"""

from __future__ import annotations

import codecs
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
    #: files read as Windows-1252, not being valid UTF-8: their paths, in the order read
    guessed: list[str] = field(default_factory=list)

    def note_unknown(self, kind: str, path: Path) -> None:
        self.unsupported += 1
        self.unknown.setdefault(kind, []).append(str(path))


def file_type(path: Path) -> str:
    """What ``--ext`` matches: the extension without its dot (``bin``), or the whole name of a
    file without one (``README``)."""
    return path.suffix.lower().lstrip(".") or path.name


def _sniffed_text(path: Path) -> bool:
    """Does a file without an extension look like text (a byte-order mark, or no NUL and valid
    UTF-8 up front)?"""
    try:
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
    except OSError:
        return False
    if _bom(head) is not None:
        return True
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


#: Byte-order marks, UTF-32's before UTF-16's (the little-endian UTF-32 mark starts with UTF-16's).
_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
]
#: Control characters that text does not hold (white space aside).
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]")
#: A character other than ASCII and U+FFFD (a valid UTF-8 sequence, where UTF-8 is decoded with replacement).
_NOT_ASCII = re.compile("[^\x00-\x7f\ufffd]")
WINDOWS_1252 = "Windows-1252"


def _bom(data: bytes) -> tuple[bytes, str, str] | None:
    """The byte-order mark ``data`` starts with: ``(mark, codec, name)``."""
    return next((b for b in _BOMS if data.startswith(b[0])), None)


def _decode(data: bytes) -> tuple[str, str]:
    """The text of a file and the encoding it was read in (see the module docstring)."""
    bom = _bom(data)
    if bom is not None:  # the mark is not part of the text a reader sees
        mark, codec, name = bom
        try:
            return data[len(mark) :].decode(codec), name
        except UnicodeDecodeError as e:
            raise SkipFile(f"invalid {name} at byte {len(mark) + e.start}") from None
    if _looks_binary(data):
        raise SkipFile("binary file")
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as e:
        text = _windows_1252(data)
        if text is None:
            raise SkipFile(f"invalid UTF-8 at byte {e.start} (nor is it {WINDOWS_1252} text)") from None
        return text, WINDOWS_1252


def _windows_1252(data: bytes) -> str | None:
    """``data`` as Windows-1252 text, when it is that: every byte a character of it, none a control
    character, and no UTF-8 sequence in it (then it is UTF-8 with a bad byte, not Windows-1252)."""
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    if _CONTROL.search(text) or _NOT_ASCII.search(data.decode("utf-8", "replace")):
        return None
    return text


def _read_text(path: Path, doc_id: str, suffix: str, report: ReadReport) -> Iterator[Document]:
    text = _decoded(path, report)
    format = "markdown" if suffix in MARKDOWN_SUFFIXES else "text"
    yield Document(id=doc_id, text=text, path=str(path), format=format)


def _decoded(path: Path, report: ReadReport) -> str:
    text, encoding = _decode(path.read_bytes())
    if encoding == WINDOWS_1252:
        report.guessed.append(str(path))
    return text


def _read_html(path: Path, doc_id: str, report: ReadReport) -> Iterator[Document]:
    import trafilatura

    from qa.html_text import page_text

    html = _decoded(path, report)
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
            docs = _read_html(path, doc_id, report)
        elif suffix in PDF_SUFFIXES:
            docs = _read_pdf(path, doc_id)
        else:
            docs = _read_text(path, doc_id, suffix, report)
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


def encoding_summary(report: ReadReport, shown: int = 3) -> str | None:
    """One line on the files read as Windows-1252 (their first few names), or None."""
    if not report.guessed:
        return None
    names = ", ".join(Path(p).name for p in report.guessed[:shown]) + (", ..." if len(report.guessed) > shown else "")
    return f"{counted(len(report.guessed), 'file')} read as {WINDOWS_1252}, not being valid UTF-8: {names}"
