"""The index is built through langchain-chroma, reused while the corpus is unchanged, rebuilt otherwise."""

import shutil
from dataclasses import replace

import pytest

from bot.index import EntryIndex, documents


@pytest.fixture()
def numpy_factory(embeddings):
    return lambda: embeddings


@pytest.fixture()
def small_corpus(corpus):
    """Eight entries: these tests are about building and rebuilding, so a small index keeps them quick."""
    return replace(corpus, entries=corpus.entries[:8], content_hash="small" + corpus.content_hash[5:])


def test_built_then_reused(tmp_path, small_corpus, numpy_factory, embed):
    index = EntryIndex(tmp_path / "idx", embeddings_factory=numpy_factory)
    assert index.ensure(small_corpus) == "built"
    assert EntryIndex(tmp_path / "idx", embeddings_factory=numpy_factory).ensure(small_corpus) == "reused"
    first = small_corpus.entries[0]
    hits = index.query(embed([first.question])[0].tolist(), n=5)
    assert hits[0][0] == first.id and hits[0][2] > 0.99   # cosine similarity, not L2
    assert hits[0][1] == "question"
    by_answer = index.query(embed([first.answer])[0].tolist(), n=1)[0]
    assert by_answer[:2] == (first.id, "answer")
    by_alternate = index.query(embed([first.alternates[-1]])[0].tolist(), n=1)[0]
    assert by_alternate[:2] == (first.id, "alternate")


def test_deleted_index_is_rebuilt(tmp_path, small_corpus, numpy_factory, embed):
    path = tmp_path / "idx"
    EntryIndex(path, embeddings_factory=numpy_factory).ensure(small_corpus)
    shutil.rmtree(path)
    index = EntryIndex(path, embeddings_factory=numpy_factory)
    assert index.ensure(small_corpus) == "built"
    assert index.query(embed(["hello"])[0].tolist(), n=3)


def test_missing_manifest_means_partly_written_and_is_rebuilt(tmp_path, small_corpus, numpy_factory):
    path = tmp_path / "idx"
    EntryIndex(path, embeddings_factory=numpy_factory).ensure(small_corpus)
    (path / "manifest.json").unlink()
    assert EntryIndex(path, embeddings_factory=numpy_factory).ensure(small_corpus).startswith("rebuilt")


def test_corrupted_index_is_rebuilt(tmp_path, small_corpus, numpy_factory, embed):
    path = tmp_path / "idx"
    EntryIndex(path, embeddings_factory=numpy_factory).ensure(small_corpus)
    for file in path.rglob("chroma*/**/*"):
        if file.is_file():
            file.write_bytes(b"\x00garbage" * 100)
    index = EntryIndex(path, embeddings_factory=numpy_factory)
    assert index.ensure(small_corpus).startswith("rebuilt")
    first = small_corpus.entries[0]
    assert index.query(embed([first.question])[0].tolist(), n=3)[0][0] == first.id


def test_corpus_change_triggers_rebuild(tmp_path, small_corpus, numpy_factory):
    path = tmp_path / "idx"
    EntryIndex(path, embeddings_factory=numpy_factory).ensure(small_corpus)
    changed = replace(small_corpus, entries=small_corpus.entries[1:], content_hash="changed0000000000")
    index = EntryIndex(path, embeddings_factory=numpy_factory)
    assert index.ensure(changed) == "rebuilt: corpus changed"
    assert index._collection.count() == len(documents(changed))


def test_every_entry_is_indexed_three_ways(corpus):
    docs = documents(corpus)
    kinds = {(d.entry_id, d.kind) for d in docs}
    for entry in corpus.entries:
        assert {(entry.id, "question"), (entry.id, "alternate"), (entry.id, "answer")} <= kinds
    assert not any("{" in d.text for d in docs)


def test_reused_index_answers_from_its_snapshot_like_chroma(tmp_path, small_corpus, numpy_factory, embed):
    built = EntryIndex(tmp_path / "idx", embeddings_factory=numpy_factory)
    built.ensure(small_corpus)               # served by Chroma right after the build
    reused = EntryIndex(tmp_path / "idx", embeddings_factory=numpy_factory)
    assert reused.ensure(small_corpus) == "reused"
    assert reused._collection is None         # the snapshot answers; Chroma was not opened
    for text in ("how long is a session?", "can I drive home", small_corpus.entries[3].answer):
        vector = embed([text])[0].tolist()
        by_chroma, by_snapshot = built.query(vector, n=10), reused.query(vector, n=10)
        assert [h[:2] for h in by_snapshot] == [h[:2] for h in by_chroma]
        assert all(abs(a[2] - b[2]) < 1e-5 for a, b in zip(by_snapshot, by_chroma, strict=True))
    assert reused.healthy() and reused.collection_name == built.collection_name


def test_unreadable_snapshot_is_rewritten_from_chroma(tmp_path, small_corpus, numpy_factory, embed):
    path = tmp_path / "idx"
    EntryIndex(path, embeddings_factory=numpy_factory).ensure(small_corpus)
    snapshot = next(path.glob("chroma*/vectors.npz"))
    snapshot.write_bytes(b"not a numpy file")
    index = EntryIndex(path, embeddings_factory=numpy_factory)
    assert index.ensure(small_corpus) == "reused"      # Chroma itself is intact
    assert EntryIndex(path, embeddings_factory=numpy_factory).ensure(small_corpus) == "reused"
    first = small_corpus.entries[0]
    assert index.query(embed([first.question])[0].tolist(), n=1)[0][0] == first.id
    fresh = EntryIndex(path, embeddings_factory=numpy_factory)
    fresh.ensure(small_corpus)
    assert fresh._collection is None                      # the rewritten snapshot serves again
