"""The Milvus backend: the index in a Milvus Lite file (``milvus:./lib.db``) or on a Milvus
server (``milvus:http://host:19530``), through ``pymilvus`` (``pip install 'citeqa[milvus]'``).

Collections, for a collection name ``C`` (default ``citeqa``)::

    C            one row per sentence: id, doc, gen, start, end, line, page, the text
                 BM25 indexes (``terms``), its BM25 vector (Milvus's BM25 function of
                 ``terms``) and its dense vector (exact search on Milvus Lite, HNSW on a server)
    C_documents  one row per document version: doc, gen, path, title, format, sha256, pages,
                 the whole text (so citations are exact from Milvus alone), or a tombstone
    C_tokens     the sentences' token vectors (float16, base64, in parts) for the MaxSim
                 rerank, when the index is small enough to store them (as locally)
    C_state      one row: the committed generation, the next sentence id, counts, model

What runs where: citeqa splits, embeds (on the client) and plans the change by content hash;
Milvus stores the rows and runs the dense and BM25 searches. Fusion, the rerank and reading
run in citeqa, as for the local index.

BM25: Milvus Lite's analyzers have no English stemmer, so the ``terms`` field holds the
sentence already tokenised by citeqa's own BM25 tokenizer (``qa.index.bm25``: stemmed, stop
words dropped), and questions are searched with the same terms: both backends score the same
terms, with the same k1 and b.

Crash safety, without transactions: every row a write adds carries the new generation G+1,
which readers do not see (they read rows of generation <= G, the committed one, from
``C_state``). A changed document gets a new version at G+1; a removed one a tombstone at G+1.
The write commits by replacing the one state row (G+1); only then are the superseded versions
deleted. A reader takes, for each document, its newest version of generation <= G and leaves
out the rows of older ones until they are gone. A writer killed at any point thus leaves
readers the complete old or the complete new set of each document's sentences; the next
writer deletes what the killed one left (rows above G, versions superseded).

Writers: a lock file beside a Milvus Lite file keeps two writers on one machine apart; on a
server, run one writer per collection at a time (readers can be many).

Modules: ``connection`` (locations, the client, Milvus Lite's lock), ``layout`` (collections,
rows, the state), ``reader`` (``MilvusIndex``), ``writer`` (``update_milvus``), ``check``.
"""

from qa.index.milvus.check import check_milvus
from qa.index.milvus.connection import parse_milvus_location
from qa.index.milvus.reader import MilvusIndex
from qa.index.milvus.writer import update_milvus

__all__ = ["MilvusIndex", "check_milvus", "parse_milvus_location", "update_milvus"]
