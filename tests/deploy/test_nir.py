"""NIR in and out: hand-computed parameter mapping, an exact bundle -> NIR -> bundle round trip,
clear refusals, and round trips through real peers (snnTorch, Norse)."""

from __future__ import annotations

import nir  # a core dependency (pyproject): imported, never skipped
import numpy as np
import pytest

from neuromotif.cli import main
from neuromotif.config import load_config
from neuromotif.core.errors import InputError
from neuromotif.deploy.backends.cpu import CPUBackend
from neuromotif.deploy.bundle import read_bundle
from neuromotif.deploy.nir_export import bundle_to_nir
from neuromotif.deploy.nir_import import nir_to_float_network
from neuromotif.search.data import load_dataset
from neuromotif.simulation import dataset_of
from neuromotif.stages import compile_checkpoint, train_model
from tests.deploy.nir_reference import (
    TOPOLOGIES,
    norse_import_agreement,
    run_float,
    run_snntorch_modules,
    snntorch_import_agreement,
)

TINY = ["data.max_samples=96", "model.hidden=[32]", "model.motif_size=8", "train.batch_size=32", "train.epochs=3"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    train_model(load_config(None, TINY), out)
    compile_checkpoint(out, "loihi2", out / "bundle")
    return out / "bundle"


def _graph(nodes, edges, dt=None):
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata={} if dt is None else {"dt": dt})


def test_import_maps_taus_gains_biases_and_flattens_nested_recurrent_graphs():
    dt = 1e-3
    w1 = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, 1.0]])
    w_rec = np.array([[0.0, 0.25], [-0.5, 0.0]])
    w2 = np.array([[2.0, 1.0]])
    cuba = nir.CubaLIF(
        tau_syn=np.array([4e-3, 8e-3]),
        tau_mem=np.array([10e-3, 20e-3]),
        r=np.array([2.0, 1.0]),
        w_in=np.array([1.5, 1.0]),
        v_leak=np.array([0.1, 0.0]),
        v_threshold=np.array([2.0, 2.0]),
        v_reset=np.zeros(2),
    )
    recurrent = nir.NIRGraph(
        nodes={
            "in": nir.Input(input_type=np.array([2])),
            "lif": cuba,
            "rec": nir.Linear(weight=w_rec),
            "out": nir.Output(output_type=np.array([2])),
        },
        edges=[("in", "lif"), ("lif", "rec"), ("rec", "lif"), ("lif", "out")],
    )
    lif = nir.LIF(
        tau=np.array([5e-3]),
        r=np.array([3.0]),
        v_leak=np.zeros(1),
        v_threshold=np.array([0.5]),
        v_reset=np.array([0.1]),
    )
    graph = _graph(
        {
            "input": nir.Input(input_type=np.array([3])),
            "fc": nir.Affine(weight=w1, bias=np.array([0.2, 0.0])),
            "hidden": recurrent,
            "scale": nir.Scale(scale=np.array([1.0, 0.5])),
            "fc2": nir.Linear(weight=w2),
            "ro": lif,
            "output": nir.Output(output_type=np.array([1])),
        },
        [("input", "fc"), ("fc", "hidden"), ("hidden", "scale"), ("scale", "fc2"), ("fc2", "ro"), ("ro", "output")],
        dt=dt,
    )
    net, report = nir_to_float_network(graph)
    h = net.population("hidden_lif")
    np.testing.assert_allclose(h.du, [0.25, 0.125])
    np.testing.assert_allclose(h.dv, [0.1, 0.05])
    gain = np.array([2.0 * 1.5 * 0.25 * 0.1, 1.0 * 1.0 * 0.125 * 0.05]) / 2.0  # r w_in du dv / v_threshold
    weights = {j.name: j.weights.toarray() for j in net.projections}
    np.testing.assert_allclose(weights["input->hidden_lif"], gain[:, None] * w1)
    np.testing.assert_allclose(weights["hidden_lif->hidden_lif"], gain[:, None] * w_rec)
    # the Affine bias 0.2 into neuron 0: a constant current; folded as its steady state, bias * gain / du
    np.testing.assert_allclose(h.bias, [0.1 * 0.1 / 2.0 + 0.2 * gain[0] / 0.25, 0.0])
    ro = net.population("ro")
    np.testing.assert_allclose(ro.du, [1.0])  # LIF: no synaptic memory
    np.testing.assert_allclose(ro.dv, [0.2])
    np.testing.assert_allclose(weights["hidden_lif->ro"], (3.0 * 0.2 / 0.5) * w2 * [1.0, 0.5])
    assert net.input == "input" and net.output == "ro" and h.vth == 1.0
    text = " ".join(report.lines())
    assert "v_reset" in text and "Affine bias" in text and "2 steps from input to output" in text


@pytest.mark.parametrize(
    "nodes,edges,dt,expected",
    [
        (
            {
                "input": nir.Input(input_type=np.array([2])),
                "li": nir.LI(tau=np.ones(2), r=np.ones(2), v_leak=np.zeros(2)),
                "output": nir.Output(output_type=np.array([2])),
            },
            [("input", "li"), ("li", "output")],
            1e-3,
            "NIR node 'li' has type LI",
        ),
        (
            {
                "input": nir.Input(input_type=np.array([2])),
                "lif": nir.LIF(
                    tau=np.ones(2), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2), v_reset=np.zeros(2)
                ),
                "output": nir.Output(output_type=np.array([2])),
            },
            [("input", "lif"), ("lif", "output")],
            None,
            "--dt",
        ),
        (
            {
                "input": nir.Input(input_type=np.array([2])),
                "d": nir.Delay(delay=np.array([3.0, 3.0])),
                "lif": nir.LIF(
                    tau=np.ones(2), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2), v_reset=np.zeros(2)
                ),
                "output": nir.Output(output_type=np.array([2])),
            },
            [("input", "d"), ("d", "lif"), ("lif", "output")],
            1e-3,
            "(Delay): delays [3.0] steps",
        ),
        (
            {
                "input": nir.Input(input_type=np.array([2])),
                "lif": nir.LIF(
                    tau=np.full(2, 1e-4), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2), v_reset=np.zeros(2)
                ),
                "output": nir.Output(output_type=np.array([2])),
            },
            [("input", "lif"), ("lif", "output")],
            1e-3,
            "Euler step is unstable",
        ),
    ],
)
def test_bad_nir_graphs_exit_2_naming_the_problem(tmp_path, capsys, nodes, edges, dt, expected):
    path = tmp_path / "g.nir"
    nir.write(str(path), _graph(nodes, edges, dt))
    assert main(["compile", str(path), "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_unreadable_nir_file_and_wrong_dataset_exit_2(tmp_path, capsys, bundle):
    bad = tmp_path / "bad.nir"
    bad.write_text("not hdf5")
    assert main(["compile", str(bad)]) == 2
    assert "is not a readable NIR graph" in capsys.readouterr().err
    assert main(["export", str(bundle.parent), "--out", str(tmp_path / "n.nir"), "-q"]) == 0
    assert main(["compile", str(tmp_path / "n.nir"), "--data", "letters-tts", "--out", str(tmp_path / "b")]) == 2
    assert "the dataset has 78 input channels, the NIR graph's Input has 200" in capsys.readouterr().err


def test_bundle_to_nir_and_back_is_exact_and_runs_the_same_spikes(bundle, tmp_path, capsys):
    original = read_bundle(bundle)
    assert main(["export", str(bundle.parent), "--out", str(tmp_path / "n.nir")]) == 0
    assert "one chip step" in capsys.readouterr().out
    assert (
        main(["compile", str(tmp_path / "n.nir"), "--data", "digits-saccade", "--out", str(tmp_path / "b"), "-q"]) == 0
    )
    again = read_bundle(tmp_path / "b")
    pops = {p.name: p for p in again.populations}
    for p in original.populations:
        q = pops[p.name]
        assert (p.size, p.kind) == (q.size, q.kind)
        if p.kind == "lif":
            assert p.vth == q.vth and (p.du == q.du).all() and (p.dv == q.dv).all()
            assert ((p.bias_mant << p.bias_exp) == (q.bias_mant << q.bias_exp)).all()
    projs = {j.name: j for j in again.projections}
    for j in original.projections:
        assert j.weight_exp == projs[j.name].weight_exp and (j.weights != projs[j.name].weights).nnz == 0
    data, _ = dataset_of(again)
    x = data.test.spikes(np.arange(32))
    a, b = CPUBackend(original).run(x, record=("scml0",)), CPUBackend(again).run(x, record=("scml0",))
    np.testing.assert_array_equal(a.spikes["scml0"], b.spikes["scml0"])
    np.testing.assert_array_equal(a.counts, b.counts)
    assert main(["simulate", str(tmp_path / "b"), "--samples", "16", "-q"]) == 0  # the recorded dataset is used


def test_export_parameters_are_the_documented_formulas(bundle):
    b = read_bundle(bundle)
    graph, notes = bundle_to_nir(b, dt=1e-3)
    h = next(p for p in b.populations if p.name == "scml0")
    node = graph.nodes["scml0"]
    np.testing.assert_allclose(node.tau_syn, 4096e-3 / (h.du + 1))
    np.testing.assert_allclose(node.r * 1e-3 / node.tau_mem, 1.0)
    np.testing.assert_allclose(node.v_threshold, h.vth * 64)
    j = next(j for j in b.projections if j.name == "scml0->scml0")
    np.testing.assert_array_equal(graph.nodes["scml0->scml0"].weight, j.weights.toarray() * 2.0 ** (6 + j.weight_exp))
    assert graph.metadata["neuromotif"]["hop_delay_steps"] == 1 and any("delays spikes" in n for n in notes)


def _assert_read_as_the_peer_runs_it(r: dict) -> None:
    """A trained peer network (not a constant guess), imported exactly (every prediction of the
    peer's modules with the hop delay; output spikes up to float32 against float64 at a threshold),
    its fixed point predicting what the peer's own forward predicts for >= 80 % of the samples."""
    print(r)
    assert r["peer_accuracy"] > 0.5, r
    assert r["import_agreement_hop_delay_modelled"] == 1.0 and r["import_spike_count_difference"] <= 1e-3, r
    assert r["fixed_point_agreement"] >= 0.8, r


@pytest.mark.slow
@pytest.mark.parametrize("kind", TOPOLOGIES)
def test_an_snntorch_network_imports_as_snntorch_runs_it(tmp_path, kind):
    """snnTorch networks (one with biases on every Linear and on the recurrence, one with two hidden
    layers, one with one-to-one recurrence), trained briefly with the chip's reset (to zero, in the
    spike's step) and exported by snnTorch: our import runs what snnTorch's modules run with the
    chip's hop delay (every prediction on the whole test split; the output spike counts equal up to
    float32 against float64 at a threshold: <= 0.1 %), and the compiled fixed point predicts what
    snnTorch's own forward predicts for >= 80 % of the samples. The rest is the compiler's 8-bit
    weights, not the import: about 10 % of the output spikes move on these briefly trained networks
    and flip the near-ties (`benchmarks/bench_interop.py` measures it on better-trained ones).

    Wrong importers this catches: dropping the recurrence or zeroing the weights (the old test let
    both through an accuracy floor), a bias folded with the wrong gain, a dt from --dt instead of
    the file, Norse's tau rule applied to snnTorch's file."""
    pytest.importorskip("snntorch")
    data = load_dataset(load_config(None, ["data.name=digits-saccade"]).data, 0)
    r = snntorch_import_agreement(data, kind, tmp_path, hidden=32, epochs=3, samples=768)
    _assert_read_as_the_peer_runs_it(r)


@pytest.mark.slow
def test_a_norse_network_imports_as_norse_runs_it(tmp_path):
    """A Norse network (Linear -> LIFBoxCell -> Linear -> LIFBoxCell) trained briefly, exported
    with Norse's ``to_nir`` and written with ``nir.write`` (batch-of-one types, Norse's tau rule),
    compiled from the file: the import runs what Norse's modules run with the hop delay (every
    prediction, every output spike), the fixed point agrees with Norse's own forward on >= 80 %.
    It used to be refused as "not a readable NIR graph" (NIR's type check of the batch-of-one
    types), and read with Norse's taus as written it ran with no membrane memory."""
    pytest.importorskip("norse.torch")
    data = load_dataset(load_config(None, ["data.name=digits-saccade"]).data, 0)
    r = norse_import_agreement(data, tmp_path, hidden=64, epochs=6, samples=len(data.train))
    _assert_read_as_the_peer_runs_it(r)
    assert any("Norse's to_nir writes tau" in note for note in r["import_notes"]), r["import_notes"]


@pytest.mark.slow
def test_our_nir_runs_in_snntorch_and_norse(bundle, tmp_path):
    pytest.importorskip("snntorch")
    b = read_bundle(bundle)
    graph, _ = bundle_to_nir(b, dt=1e-4)  # snnTorch's converters assume dt = 1e-4
    path = tmp_path / "n.nir"
    nir.write(str(path), graph)
    graph = nir.read(str(path))
    data, _ = dataset_of(b)
    x = data.test.spikes()
    ours = CPUBackend(b).run(x).counts.argmax(1)
    with_delays = run_snntorch_modules(graph, x, hop_delay=True).argmax(1)
    without = run_snntorch_modules(graph, x, hop_delay=False).argmax(1)
    assert (with_delays == ours).mean() == 1.0
    assert (without == ours).mean() >= 0.98
    norse = pytest.importorskip("norse.torch")
    import torch

    # Norse runs our file (written for it: dt 1 ms, Norse's default) on the real test input, step by
    # step with its state. Its graph executor has no hop delay, so it is compared with our float
    # network run the same way (`run_float(hop_delay=False)`): the output spike counts per sample
    # and class within 5 % in all (measured: 1.7-2 %, Norse's own Euler step; the previous check
    # compared a 1e-4 file run at Norse's 1 ms with our delayed network and allowed 25 %)
    path = tmp_path / "norse.nir"
    assert main(["export", str(bundle), "--format", "nir", "--for", "norse", "--out", str(path), "-q"]) == 0
    graph = nir.read(str(path))
    module = norse.from_nir(graph, dt=1e-3)
    xs, state, counts = torch.from_numpy(x).float(), None, 0
    with torch.no_grad():
        for t in range(xs.shape[1]):
            out, state = module(xs[:, t], state)
            counts = counts + out
    theirs = counts.numpy()
    ours_float = run_float(nir_to_float_network(graph, 1e-3)[0], x, hop_delay=False)
    moved = float(np.abs(theirs - ours_float).sum() / ours_float.sum())
    print(f"readout spikes: Norse {theirs.sum():.0f}, ours without hop delay {ours_float.sum():.0f}, moved {moved:.4f}")
    assert theirs.shape == (len(x), b.manifest["classes"]) and ours_float.sum() > 0
    assert moved <= 0.05, moved


@pytest.mark.slow
def test_a_two_layer_export_runs_in_snntorch_as_on_the_chip(tmp_path):
    """Two hidden SC-ML layers exported for snnTorch (`export --for snntorch`, dt 1e-4): snnTorch's
    own neuron modules, with the chip's hop delay, predict what our fixed point predicts on every
    test sample (the chain of three projections and two recurrences read as written)."""
    pytest.importorskip("snntorch")
    out = tmp_path / "run"
    train_model(load_config(None, [*TINY, "model.hidden=[32, 16]", "model.neuron.bias=0"]), out)
    compile_checkpoint(out, "loihi2", out / "bundle")
    path = tmp_path / "two.nir"
    assert main(["export", str(out / "bundle"), "--format", "nir", "--for", "snntorch", "--out", str(path), "-q"]) == 0
    b = read_bundle(out / "bundle")
    assert len(b.neuron_populations) == 3
    data, _ = dataset_of(b)
    x = data.test.spikes()
    ours = CPUBackend(b).run(x).counts.argmax(1)
    theirs = run_snntorch_modules(nir.read(str(path)), x, hop_delay=True).argmax(1)
    print(f"classes predicted: {len(np.unique(ours))}")
    assert len(np.unique(ours)) >= 3  # not a constant guess: the comparison can fail
    assert (theirs == ours).mean() == 1.0


def _tiny_graph(thr=None, w=None):
    """input (2) -> Linear -> LIF (2) -> output; ``thr`` / ``w`` replace the threshold / weights."""
    w = np.eye(2) if w is None else w
    thr = np.ones(2) if thr is None else thr
    return nir.NIRGraph(
        nodes={
            "in": nir.Input(input_type=np.array([2])),
            "lin": nir.Linear(weight=w),
            "lif": nir.LIF(
                tau=np.full(2, 1e-2), r=np.ones(2), v_leak=np.zeros(2), v_threshold=thr, v_reset=np.zeros(2)
            ),
            "out": nir.Output(output_type=np.array([2])),
        },
        edges=[("in", "lin"), ("lin", "lif"), ("lif", "out")],
    )


@pytest.mark.parametrize(
    "graph,why",
    [
        (dict(w=np.array([[np.nan, 0], [0, 1.0]])), "'lin' (Linear): weight holds NaN"),
        (dict(thr=np.array([np.inf, 1.0])), "'lif' (LIF): v_threshold holds NaN or inf"),
    ],
)
def test_non_finite_nir_arrays_are_refused_by_name(tmp_path, capsys, graph, why):
    """They used to reach the compiler and end in an internal error (exit 1)."""
    nir.write(tmp_path / "g.nir", _tiny_graph(**graph))
    assert main(["compile", str(tmp_path / "g.nir"), "--dt", "1e-3", "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert why in err and err.count("\n") == 1


def test_a_small_file_declaring_a_huge_network_is_refused_before_it_is_read(tmp_path, capsys, monkeypatch):
    """A 35 KB file whose LIF tau is an unwritten 10^9-element dataset: reading it would allocate
    8 GB. Checked from the file's dataset shapes against the memory this process has."""
    import h5py

    import neuromotif.core.memory as memory

    path = tmp_path / "big.nir"
    nir.write(path, _tiny_graph())
    with h5py.File(path, "r+") as f:
        del f["node/nodes/lif/tau"]
        f.create_dataset("node/nodes/lif/tau", shape=(10**9,), dtype="f8", chunks=True)
    assert path.stat().st_size < 100_000
    monkeypatch.setattr(memory, "available_memory", lambda: 4e9)  # a 4 GB container
    assert main(["compile", str(path), "--dt", "1e-3", "--out", str(tmp_path / "b")]) == 2
    assert "would need about 8.0 GB of memory to import and 4.0 GB are available" in capsys.readouterr().err


def _lif_graph(tau, r, dt=None, edge="Linear"):
    """input (2) -> Linear or Affine -> LIF (2) -> output."""
    w = np.eye(2)
    lin = nir.Linear(weight=w) if edge == "Linear" else nir.Affine(weight=w, bias=np.zeros(2))
    return _graph(
        {
            "input": nir.Input(input_type=np.array([2])),
            "lin": lin,
            "lif": nir.LIF(
                tau=np.full(2, tau), r=np.full(2, r), v_leak=np.zeros(2), v_threshold=np.ones(2), v_reset=np.zeros(2)
            ),
            "output": nir.Output(output_type=np.array([2])),
        },
        [("input", "lin"), ("lin", "lif"), ("lif", "output")],
        dt,
    )


def test_dt_is_read_from_the_file_and_a_contradicting_dt_refused(tmp_path, capsys):
    # snnTorch's convention: r = tau_mem / dt (here 0.005 / 1e-4 = 50) and no metadata dt
    snn = _lif_graph(5e-3, 50.0)
    net, report = nir_to_float_network(snn)
    assert report.dt == pytest.approx(1e-4) and "dt read from the neurons" in report.lines()[0]
    assert any("resets v to 0" in line for line in report.lines())  # snnTorch subtracts by default
    assert net.population("lif").dv == pytest.approx(np.full(2, 1e-4 / 5e-3))  # 0.02
    with pytest.raises(InputError, match=r"--dt 0.0005 disagrees with the file \(r = tau_mem / dt .*: 0.0001 s\)"):
        nir_to_float_network(snn, 5e-4)
    with pytest.raises(InputError, match=r"--dt 0.0005 disagrees with the file \(its metadata dt: 0.001 s\)"):
        nir_to_float_network(_lif_graph(1e-2, 1.0, dt=1e-3), 5e-4)
    path = tmp_path / "g.nir"  # through the CLI: one line, exit 2
    nir.write(str(path), _lif_graph(1e-2, 1.0, dt=1e-3))
    assert main(["compile", str(path), "--dt", "5e-4", "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err.strip()
    assert "disagrees with the file" in err and len(err.splitlines()) == 1


def test_norse_taus_are_read_as_norse_meant():
    """Norse 1.1's to_nir writes tau = dt / tau_inv = dt x tau (10 ms at dt 1 ms -> 1e-5 s) with r = 1
    and Affine weights: read back as 10 ms (dv = 0.1), with a note. The wrong reading (dt / 1e-5 =
    100 > 1) was refused, and --dt 1e-5 'worked' with no membrane memory."""
    net, report = nir_to_float_network(_lif_graph(1e-3 * 1e-2, 1.0, edge="Affine"), 1e-3)
    assert net.population("lif").dv == pytest.approx(np.full(2, 0.1))
    assert any("Norse's to_nir" in line and "0.01 s" in line for line in report.lines())
    with pytest.raises(InputError, match="Euler step is unstable"):  # the same taus without Norse's signature
        nir_to_float_network(_lif_graph(1e-3 * 1e-2, 1.0, edge="Linear"), 1e-3)


def test_a_real_norse_export_imports_with_its_time_constants():
    norse = pytest.importorskip("norse.torch")
    import torch

    cell = norse.LIFBoxCell(norse.LIFBoxParameters(tau_mem_inv=torch.tensor(50.0)))
    model = norse.SequentialState(torch.nn.Linear(3, 4), cell)
    graph = norse.to_nir(model, torch.zeros(1, 3), dt=1e-3)
    net, report = nir_to_float_network(graph, 1e-3)
    lif = next(p for p in net.populations if p.kind == "lif")
    assert lif.dv == pytest.approx(np.full(4, 1e-3 * 50.0))  # dt x tau_mem_inv = 0.05
    assert any("Norse's to_nir" in line for line in report.lines())


def test_export_for_a_peer_writes_what_it_reads_and_refuses_what_it_would_misread(tmp_path, capsys):
    from neuromotif.deploy.synthetic_bundles import lif, make_bundle

    def bundle(name, bias):
        h = lif("h", 4, 100, 200, vth=100, bias_mant=bias, bias_exp=0)
        return make_bundle(tmp_path / name, 3, [h], [("input", "h", np.full((4, 3), 10), 0)])

    bundle("plain", 0), bundle("biased", 5)
    out = tmp_path / "s.nir"
    assert main(["export", str(tmp_path / "plain"), "--for", "snntorch", "--out", str(out), "-q"]) == 0
    assert nir.read(str(out)).metadata["dt"] == pytest.approx(1e-4)  # snnTorch's converters assume it
    for args, why in (
        (["--for", "snntorch", "--dt", "1e-3"], "--for snntorch needs --dt 0.0001"),
        (["--for", "norse"], "Norse 1.1's from_nir also applies v_leak on the synapse"),
        (["--for", "snntorch"], "snnTorch's NIR import refuses v_leak"),
    ):
        source = tmp_path / ("plain" if "--dt" in args else "biased")
        assert main(["export", str(source), "--out", str(out), *args]) == 2
        err = capsys.readouterr().err.strip()
        assert why in err and len(err.splitlines()) == 1, err
    assert main(["export", str(tmp_path / "biased"), "--for", "generic", "--out", str(out), "-q"]) == 0
