"""Stages are done when they say so (a marker written at their end), not by counting history lines."""

from __future__ import annotations

import json

from neuromotif.run import _search_done, _train_done
from neuromotif.stages import DONE_FILE, mark_done, stage_done


def test_a_stage_is_done_only_with_its_marker_and_its_result(tmp_path):
    search = tmp_path / "search"
    search.mkdir()
    (search / "architecture.yaml").write_text("layers: []\n")
    (search / "history.jsonl").write_text("{}\n" * 50)  # more lines than any configured iteration count
    assert not _search_done(tmp_path)
    mark_done(search, architecture="architecture.yaml")  # e.g. a search stopped early by its entropy criterion
    assert _search_done(tmp_path) and json.loads((search / DONE_FILE).read_text())["architecture"]
    (search / "architecture.yaml").unlink()
    assert not _search_done(tmp_path)
    mark_done(tmp_path / "train")
    assert stage_done(tmp_path / "train") and not _train_done(tmp_path)  # no model.pt
    (tmp_path / "model.pt").write_bytes(b"x")
    assert _train_done(tmp_path)
