"""Memory checks see the container's limit, not only the host's (cgroup v2 and v1)."""

from __future__ import annotations

from neuromotif.core.memory import cgroup_available


def test_cgroup_v2_limit_minus_usage(tmp_path):
    (tmp_path / "memory.max").write_text("2500000000\n")
    (tmp_path / "memory.current").write_text("500000000\n")
    assert cgroup_available(v2=tmp_path, v1=tmp_path / "none") == 2e9


def test_cgroup_v2_without_a_limit_and_v1_limits(tmp_path):
    (tmp_path / "memory.max").write_text("max\n")
    assert cgroup_available(v2=tmp_path, v1=tmp_path / "none") is None
    v1 = tmp_path / "v1"
    v1.mkdir()
    (v1 / "memory.limit_in_bytes").write_text("4294967296\n")
    (v1 / "memory.usage_in_bytes").write_text("294967296\n")
    assert cgroup_available(v2=tmp_path, v1=v1) == 4e9
    (v1 / "memory.limit_in_bytes").write_text(str(2**63 - 4096))  # v1's "no limit"
    assert cgroup_available(v2=tmp_path, v1=v1) is None
