"""Hostile input through the API (many hypothesis examples) and the CLI (a handful, in subprocesses).

Questions: empty, whitespace, 1 MB, control characters, NUL, RTL, emoji, lone surrogates.
Documents and folders: binary, invalid UTF-8, 0 bytes, a 50 MB single line, symlink loops,
unreadable permissions, deep nesting, FIFOs, undecodable file names.
JSONL (corpora and batch questions): malformed lines, wrong types, missing fields, deep nesting.

The promise: no traceback, one clear line per problem, documented exit codes
(0 ok, 2 bad input or usage, 3 index problem), and an index that stays sound.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
from pathlib import Path

import pytest
from helpers_robust import (
    HashEncoder,
    assert_clean_failure,
    assert_no_traceback,
    build_index,
    run_qa,
    write_corpus,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa import Assistant
from qa.commands.batch import read_questions
from qa.defaults import MAX_QUESTION_CHARS
from qa.documents import ReadReport, read_documents
from qa.errors import BadInputError
from qa.index import check_index, update_index
from qa.sentences import MAX_CHARS, split_sentences

#: hypothesis examples per API property (the README quotes their sum)
API_QUESTIONS = 300
API_DOCUMENT_SETS = 40
API_JSONL_CORPORA = 100
API_BATCH_INPUTS = 200
API_SPLIT_TEXTS = 200

ANY_CHAR = st.characters(exclude_categories=())  # every code point, lone surrogates included
HOSTILE_QUESTIONS = [
    "",
    " ",
    "\t\n\r  \n",
    "\x00",
    "a\x00b\x00c",
    "\x01\x02\x03\x1b[31mred\x1b[0m",
    "x" * 1_000_000,
    "why " * 250_000,
    "מי פתח את שער הנמל?",
    "\u202eetag eht denepo ohw\u202c",
    "من فتح البوابة الشمالية؟",
    "🚪🔑🌊?",
    "👨\u200d👩\u200d👧\u200d👦 harbour",
    "\ud800 lone surrogate",
    "\udcff\udcfe",
    "\ufeffharbour gate",
    "\u200b\u200b\u200b",
    "a" + "\u0301" * 10_000,
    "?" * 5000,
    "Who opened the northern gate of the harbour?",
]


@pytest.fixture(scope="module")
def small_index(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    write_corpus(root / "docs", n_docs=8)
    build_index(root / "index", root / "docs")
    return root / "index"


@pytest.fixture(scope="module")
def hash_assistant(small_index):
    with Assistant.open(small_index, encoder=HashEncoder(), threshold=0.0) as a:
        yield a


def _assert_sound_result(assistant, question: str) -> None:
    try:
        result = assistant.ask(question)
    except BadInputError as e:
        assert "empty" in str(e) and "\n" not in str(e)
        cleaned = "".join(" " if (ord(c) < 32 and c not in "\t\n") or ord(c) == 127 else c for c in question)
        assert not cleaned.strip(), f"refused a question that has content: {question[:50]!r}"
        return
    assert result.citations, "a non-empty index returned no citations"
    for c in result.citations:
        assert assistant.store.text(c.doc)[c.start : c.end] == c.text
    if result.answer is not None:
        a = result.answer
        assert assistant.store.text(a.doc)[a.start : a.end] == a.text
        assert a.citation.start <= a.start < a.end <= a.citation.end
    out = result.to_json("q")
    out.pop("question")  # the caller's own string, echoed as given
    json.dumps(out, ensure_ascii=False).encode("utf-8")  # writable as UTF-8
    if len(question.strip()) > MAX_QUESTION_CHARS:
        assert any("truncated" in n for n in result.notes)


@pytest.mark.parametrize("question", HOSTILE_QUESTIONS, ids=lambda q: repr(q[:20]))
def test_hostile_questions_api(hash_assistant, question):
    _assert_sound_result(hash_assistant, question)


@settings(max_examples=API_QUESTIONS, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(ANY_CHAR, max_size=300) | st.text(st.sampled_from("\x00\t\n \u202e\u200bé😀?"), max_size=50))
def test_any_question_api(hash_assistant, question):
    _assert_sound_result(hash_assistant, question)


def test_hostile_questions_real_query_encoder(small_index):
    """The real ONNX tokenizer and model take every hostile question (the index vectors are hashes;
    what is checked here is that nothing breaks, not the ranking)."""
    from embeddings import load_encoder

    with Assistant.open(small_index, encoder=load_encoder("onnx"), threshold=0.0) as assistant:
        for question in HOSTILE_QUESTIONS:
            _assert_sound_result(assistant, question)


CLI_QUESTIONS = {
    "empty": ("", 2),
    "whitespace": ("   \t ", 2),
    "control characters": ("\x01\x02\x1b\x7f", 2),
    "RTL": ("מי פתח את שער הנמל?", 0),
    "emoji": ("🚪🔑🌊 harbour?", 0),
    "100 kB": ("harbour " * 12_500, 0),
    "undecodable bytes": (b"\xff\xfe harbour".decode("utf-8", "surrogateescape"), 0),
}


@pytest.mark.parametrize("name", list(CLI_QUESTIONS))
def test_hostile_questions_cli(small_index, name):
    question, code = CLI_QUESTIONS[name]
    proc = run_qa("ask", question, "--index", str(small_index), "--json")
    assert_no_traceback(proc, codes=(code,))
    if code == 0:
        out = json.loads(proc.stdout)
        assert out["citations"]
    else:
        assert_clean_failure(proc, 2, "empty")


def test_one_megabyte_and_nul_questions_through_batch(small_index):
    lines = [
        json.dumps({"id": "big", "question": "harbour gate " * 80_000}),  # ~1 MB
        json.dumps({"id": "nul", "question": "who\u0000opened the gate?"}),
        json.dumps({"id": "rtl", "question": "\u202eetag eht"}),
    ]
    proc = run_qa("batch", "--index", str(small_index), input=("\n".join(lines) + "\n").encode())
    assert_no_traceback(proc, codes=(0,))
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["id"] for o in out] == ["big", "nul", "rtl"]
    assert "truncated" in proc.stderr


# -- documents --------------------------------------------------------------------------

SUFFIXES = [".txt", ".md", ".html", ".pdf", ".jsonl", ".bin"]
FILE_BYTES = st.one_of(
    st.binary(max_size=3000),
    st.text(ANY_CHAR, max_size=2000).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.text(st.sampled_from("ab. \n\t\r?!\u00e9\u2028\u0085\x0c"), max_size=3000).map(str.encode),
    st.lists(
        st.fixed_dictionaries({"id": st.text(max_size=5), "text": st.text(ANY_CHAR, max_size=200)}), max_size=5
    ).map(lambda rs: "\n".join(json.dumps(r) for r in rs).encode()),
)


def _index_and_verify(docs_dir: Path, index_dir: Path) -> list[str]:
    """Read and index ``docs_dir`` with the hash encoder; the index must be sound and exact."""
    warnings: list[str] = []
    report = ReadReport()
    docs = list(read_documents([docs_dir], warn=warnings.append, report=report))
    for doc in docs:
        assert isinstance(doc.text, str) and doc.text.strip()
        doc.text.encode("utf-8")  # storable
    for w in warnings:
        assert "\n" not in w and "skipped" in w
    if docs:
        update_index(index_dir, docs, HashEncoder, notify=warnings.append)
        result = check_index(index_dir)
        assert result.sound, result.problems
        assert result.documents == len({d.id for d in docs})  # duplicate ids: the first is kept
    return warnings


@settings(max_examples=API_DOCUMENT_SETS, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(SUFFIXES), FILE_BYTES), max_size=5))
def test_any_files_api(files):
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        for n, (suffix, data) in enumerate(files):
            (docs / f"f{n}{suffix}").write_bytes(data)
        _index_and_verify(docs, Path(tmp) / "index")


@settings(max_examples=API_SPLIT_TEXTS, deadline=None)
@given(st.text(ANY_CHAR, max_size=5000) | st.text(st.sampled_from("a .\n\u2029\r"), max_size=5000))
def test_sentence_spans_are_exact_on_any_text(text):
    spans = split_sentences(text)
    last = 0
    for start, end in spans:
        assert last <= start < end <= len(text)
        assert end - start <= MAX_CHARS
        assert text[start:end].strip()
        last = end


def test_long_single_line_is_split_in_bounded_pieces():
    """2 MB on one line, no sentence ends: pieces of at most MAX_CHARS covering every word."""
    line = " ".join(f"word{i % 997}" for i in range(250_000))
    spans = split_sentences(line)
    assert all(e - s <= MAX_CHARS for s, e in spans)
    covered = sum(e - s for s, e in spans)
    assert covered >= len(line) - len(spans) - 1  # only the cut spaces are left out


def _decompression_bomb_pdf() -> bytes:
    """A valid one-page PDF whose content stream inflates from ~100 kB to 100 MB."""
    import io
    import zlib

    from pypdf import PdfWriter
    from pypdf.generic import NameObject, StreamObject

    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    stream = StreamObject()
    stream._data = zlib.compress(b"BT /F1 12 Tf 72 712 Td (" + b"A" * 100_000_000 + b") Tj ET", 9)
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _make_hostile_folder(root: Path) -> dict[str, str]:
    """A folder of every kind of bad file, plus two good ones; returns {name: kind}."""
    docs = root / "docs"
    docs.mkdir()
    (docs / "good.txt").write_text("The harbour gate opened at dawn.\n", encoding="utf-8")
    (docs / "empty.txt").write_bytes(b"")
    (docs / "blank.md").write_text(" \n\t\n", encoding="utf-8")
    (docs / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    (docs / "latin1.txt").write_bytes("caf\xe9 cr\xe8me br\xfbl\xe9e".encode("latin-1"))  # read as Windows-1252
    (docs / "broken-utf8.txt").write_bytes("café crème".encode() + b" br\xfbl\xe9e")  # UTF-8 with bad bytes: skipped
    (docs / "bom.md").write_bytes("\ufeff# Title\nThe lighthouse keeper is Orla Byrne.\n".encode())
    (docs / "fake.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(2000))
    (docs / "binary.html").write_bytes(os.urandom(3000).replace(b"\x00", b"\x01"))
    (docs / "bad.jsonl").write_bytes(b'{"id": 1\n[1, 2]\n"text"\n{"id": [], "text": "x"}\n' + b"[" * 50_000 + b"\n")
    (docs / "empty.jsonl").write_bytes(b"")
    os.symlink(".", docs / "self-loop")  # a folder symlink pointing at its parent
    os.symlink("b.txt", docs / "a.txt")  # a file symlink loop
    os.symlink("a.txt", docs / "b.txt")
    os.symlink("nowhere.txt", docs / "dangling.txt")
    os.mkfifo(docs / "fifo.txt")  # reading it would block forever
    deep = docs
    for i in range(60):
        deep = deep / f"d{i}"
    deep.mkdir(parents=True)
    (deep / "deep.txt").write_text("The deepest note says the ferry leaves at noon.\n", encoding="utf-8")
    locked = docs / "locked.txt"
    locked.write_text("A secret about the bridge.\n", encoding="utf-8")
    locked.chmod(0)
    locked_dir = docs / "locked-dir"
    locked_dir.mkdir()
    (locked_dir / "inside.txt").write_text("Hidden text about the orchard.\n", encoding="utf-8")
    locked_dir.chmod(0)
    (docs / "deep.html").write_text("<html><body>" + "<div>" * 20_000 + "x" + "</div>" * 20_000 + "</body></html>")
    (docs / "unclosed.html").write_text("<p>" * 20_000 + "An unclosed paragraph about the orchard.")
    (docs / "bomb.pdf").write_bytes(_decompression_bomb_pdf())
    odd = os.fsencode(str(docs)) + b"/bad-\xff-name.txt"
    with open(odd, "wb") as f:
        f.write(b"Text under an undecodable file name.\n")
    return {"docs": str(docs)}


def _can_read(path: Path) -> bool:
    try:
        if path.is_dir():
            os.listdir(path)
        else:
            path.read_bytes()
        return True
    except OSError:
        return False


@pytest.fixture
def hostile_folder(tmp_path):
    _make_hostile_folder(tmp_path)
    yield tmp_path / "docs"
    for p in (tmp_path / "docs" / "locked.txt", tmp_path / "docs" / "locked-dir"):
        p.chmod(stat.S_IRWXU)  # let pytest clean up


def test_hostile_folder_api(hostile_folder, tmp_path):
    warnings = _index_and_verify(hostile_folder, tmp_path / "index")
    joined = "\n".join(warnings)
    skipped = ["empty.txt", "blank.md", "binary.txt", "broken-utf8.txt", "fake.pdf", "fifo.txt", "bad-\\udcff-name.txt"]
    for name in skipped + ["bomb.pdf"]:
        assert name in joined, f"no warning for {name}: {joined}"
    assert "bad.jsonl:5: skipped: malformed JSON (nested too deeply)" in joined
    from qa.index import open_index

    store = open_index(tmp_path / "index")
    ids = {d.id for d in store.documents()}
    store.close()
    assert {"good.txt", "bom.md", "latin1.txt", "/".join(f"d{i}" for i in range(60)) + "/deep.txt"} <= ids
    assert "latin1.txt" not in joined
    # unreadable files are skipped with a warning, unless this test runs as root (which reads them)
    if _can_read(hostile_folder / "locked.txt"):
        assert "locked.txt" in ids
    else:
        assert "locked.txt" not in ids and "locked.txt" in joined
    if not _can_read(hostile_folder / "locked-dir"):
        assert "locked-dir" in joined
    assert not any(i.startswith("self-loop") for i in ids)  # the folder symlink is not followed


def test_hostile_folder_cli(hostile_folder, tmp_path):
    index = tmp_path / "index"
    proc = run_qa("index", str(hostile_folder), "--index", str(index))
    assert_no_traceback(proc, codes=(2,))  # the good files are indexed; skipped input makes it exit 2
    assert "the rest was indexed" in proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("qa: warning:")]
    assert len(warnings) >= 8
    assert all("skipped" in w for w in warnings)
    assert run_qa("index", "--check", str(index)).returncode == 0
    ask = run_qa("ask", "When does the ferry leave?", "--index", str(index), "--json")
    assert ask.returncode == 0 and json.loads(ask.stdout)["citations"]


@pytest.mark.parametrize(
    "args,code,needle",
    [
        (["index", "{tmp}/missing", "--index", "{tmp}/i"], 2, "no such file"),
        (["index", "{tmp}/loop", "--index", "{tmp}/i"], 2, "no such file"),
        (["index", "{tmp}/f.txt", "--index", "{tmp}/f.txt"], 2, "is a file"),
        (["index", "{tmp}/f.txt", "--index", "/proc/citeqa-no"], 3, "cannot write"),
        (["index"], 2, "PATH"),
        (["index", "--check", "{tmp}/f.txt"], 3, "failed the check"),
        (["ask", "hi", "--index", "{tmp}/f.txt"], 3, "not an index"),
        (["ask", "hi", "--index", "{tmp}/missing"], 3, "no index"),
        (["batch", "{tmp}/missing.jsonl", "--index", "{tmp}/i"], 2, "cannot read"),
        (["batch", "{tmp}", "--index", "{tmp}/i"], 2, "folder"),
    ],
)
def test_bad_paths_cli(tmp_path, args, code, needle):
    (tmp_path / "f.txt").write_text("Some text.\n")
    os.symlink("loop", tmp_path / "loop")
    proc = run_qa(*[a.format(tmp=tmp_path) for a in args])
    assert_clean_failure(proc, code, needle)


@pytest.mark.parametrize(
    "args",
    [["ask", "hi", "--top-k", "0"], ["ask", "hi", "--threshold", "nan"], ["index", "x", "--wait", "-1"], ["nope"]],
)
def test_bad_arguments_cli(args):
    proc = run_qa(*args)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_fifty_megabyte_single_line_cli(tmp_path):
    """One 50 MB line without a sentence end: indexed in bounded pieces, no traceback."""
    docs = tmp_path / "docs"
    docs.mkdir()
    words = [f"w{i}" for i in range(5000)] + ["harbour", "gate", "ferry"]
    chunk = " ".join(words[(i * 7919) % len(words)] for i in range(20000)) + " "
    with open(docs / "huge.txt", "w", encoding="utf-8") as f:
        written = 0
        while written < 50_000_000:
            f.write(chunk)
            written += len(chunk)
    (docs / "small.txt").write_text("The ferry leaves at noon.\n", encoding="utf-8")
    index = tmp_path / "index"
    # token vectors (for late interaction) are kept per sentence up to CITEQA_TOKEN_VECTORS_MAX
    # sentences: for this file that would be ~5 GB (~100 bytes per character of text), so they
    # are switched off here; what this test checks is reading, splitting, SQLite, FAISS and BM25
    proc = run_qa("index", str(docs), "--index", str(index), "-q", timeout=1200, CITEQA_TOKEN_VECTORS_MAX="0")
    assert_no_traceback(proc, codes=(0,))
    report = check_index(index)
    assert report.sound, report.problems
    assert report.sentences >= 50_000_000 // MAX_CHARS
    ask = run_qa("ask", "When does the ferry leave?", "--index", str(index), "--json")
    assert ask.returncode == 0 and json.loads(ask.stdout)["citations"]


# -- JSONL corpora and batch questions --------------------------------------------------

JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(ANY_CHAR, max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
RECORD = st.dictionaries(
    st.sampled_from(["id", "_id", "text", "title", "question", "other"]), JSON_VALUE, max_size=4
) | st.fixed_dictionaries({"id": st.text(ANY_CHAR, max_size=8), "text": st.text(ANY_CHAR, max_size=80)})
LINE = st.one_of(
    RECORD.map(lambda r: json.dumps(r).encode()),
    JSON_VALUE.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=80).map(lambda b: b.replace(b"\n", b" ")),
    st.sampled_from([b"{", b"}", b"[" * 20_000, b'{"id": "x", "text": "unterminated', b"\xff\xfe", b"\x00" * 10, b""]),
)


def _valid_corpus_record(record) -> bool:
    if not isinstance(record, dict):
        return False
    rid = record.get("id", record.get("_id"))
    text = record.get("text")
    ok_id = isinstance(rid, (str, int)) and not isinstance(rid, bool) and str(rid) != ""
    return ok_id and isinstance(text, str) and bool(text.strip())


@settings(max_examples=API_JSONL_CORPORA, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINE, max_size=8))
def test_any_jsonl_corpus_api(lines):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corpus.jsonl"
        path.write_bytes(b"\n".join(lines) + b"\n")
        warnings: list[str] = []
        docs = list(read_documents([path], warn=warnings.append))
        expected, seen = 0, set()
        for raw in lines:
            try:
                record = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):
                continue
            if _valid_corpus_record(record):
                rid = str(record.get("id", record.get("_id")))
                if rid not in seen:
                    seen.add(rid)
                    expected += 1
        assert len(docs) == expected
        for w in warnings:
            assert "\n" not in w
        for doc in docs:
            doc.text.encode("utf-8")
            doc.id.encode("utf-8")


@settings(max_examples=API_BATCH_INPUTS, deadline=None)
@given(st.lists(LINE, max_size=8))
def test_any_batch_input_api(lines):
    problems: list[str] = []
    for _, qid, question in read_questions(lines, problems):
        assert isinstance(qid, str) and isinstance(question, str) and question.strip()
        json.dumps({"id": qid, "question": question}, ensure_ascii=False).encode("utf-8")
    for p in problems:
        assert p.startswith("line ") and "\n" not in p


def test_hostile_batch_cli(small_index, tmp_path):
    lines = [
        b'{"id": "ok1", "question": "Who opened the northern gate?"}',
        b'{"id": "ok2", "question": "What did the library receive?"',  # malformed
        b'{"id": ["x"], "question": "wrong id type"}',
        b'{"id": "q4", "question": 42}',
        b'{"id": "q5"}',
        b"[1, 2, 3]",
        b'{"id": "q7", "question": "caf\xe9"}',  # invalid UTF-8
        b"[" * 50_000,
        b'{"id": "ok9", "question": "\\ud800 harbour \\u0000 gate"}',
    ]
    src = tmp_path / "q.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    proc = run_qa("batch", str(src), "--index", str(small_index))
    assert_clean_failure(proc, 2, "7 input lines skipped")
    assert [json.loads(line)["id"] for line in proc.stdout.splitlines()] == ["ok1", "ok9"]
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("qa: warning:")]
    assert [w.split(":")[2].strip() for w in warnings] == [f"line {n}" for n in (2, 3, 4, 5, 6, 7, 8)]


def test_hostile_eval_questions_cli(small_index, tmp_path):
    if run_qa("eval", "--help").returncode != 0:
        pytest.skip("this citeqa has no qa eval")
    good = {
        "id": "1",
        "question": "Who opened the northern gate?",
        "answers": ["harbour master"],
        "evidence": [{"doc": "doc000.txt", "quote": "harbour master"}],
    }
    lines = [
        json.dumps(good).encode(),
        b"{bad json",
        b"[1, 2]",
        b'{"id": "3"}',
        b'{"id": "4", "question": 5, "answers": "x", "evidence": 7}',
        b'{"id": "5", "question": "q", "answers": [1, null], "evidence": [{"doc": 3}]}',
        b'{"id": "6", "turns": "nope"}',
        b"[" * 50_000,
        b'{"id": "9", "question": "\\ud800 gate?", "answers": ["x"], "evidence": [{"doc": "doc000.txt"}]}',
        b"\x00\x01",
    ]
    src = tmp_path / "questions.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    proc = run_qa("eval", str(src), "--index", str(small_index), "--no-progress")
    assert_clean_failure(proc, 2, "skipped")
    warned = {int(m) for m in re.findall(r"line (\d+): skipped", proc.stderr)}
    assert warned == {2, 3, 4, 5, 6, 7, 8, 10}, proc.stderr
    src.write_bytes(b"\n".join(lines) + b"\n\xff\xfe\n")  # invalid UTF-8: the file is refused, in one line
    assert_clean_failure(run_qa("eval", str(src), "--index", str(small_index)), 2, "UTF-8")
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert_clean_failure(run_qa("eval", str(empty), "--index", str(small_index)), 2)


def test_byte_order_mark_and_crlf_jsonl(small_index, tmp_path):
    """JSONL saved by Windows editors: a leading BOM and CRLF line ends, corpus and questions."""
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_bytes(
        b'\xef\xbb\xbf{"id": "r1", "text": "The ferry leaves at noon."}\r\n{"id": "r2", "text": "Old bridge."}\r\n'
    )
    warnings: list[str] = []
    docs = list(read_documents([corpus], warn=warnings.append))
    assert [d.id for d in docs] == ["r1", "r2"] and not warnings
    assert docs[0].text == "The ferry leaves at noon."
    questions = tmp_path / "q.jsonl"
    questions.write_bytes(b'\xef\xbb\xbf{"id": "q1", "question": "Who opened the gate?"}\r\n')
    proc = run_qa("batch", str(questions), "--index", str(small_index))
    assert_no_traceback(proc, codes=(0,))
    assert json.loads(proc.stdout)["id"] == "q1"
