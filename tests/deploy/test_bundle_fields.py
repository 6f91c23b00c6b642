"""Every bundle field is honoured by both backends, or refused by the reader with one line.

Hand-made one-neuron bundles with the expected result written out by hand, run on the CPU
backend and on Lava; and out-of-range values of every field, each refused naming the field,
the value and the allowed range.
"""

from __future__ import annotations

import numpy as np
import pytest

from neuromotif.cli import main
from neuromotif.deploy import lava_compat
from neuromotif.deploy.backends.cpu import CPUBackend
from neuromotif.deploy.bundle import BundleError, read_bundle
from tests.deploy.bundles import lif, make_bundle

needs_lava = pytest.mark.skipif(not lava_compat.lava_available(), reason="lava-nc not installed (make setup)")

# u is cleared every step (du = 4095) and v keeps nothing below 4096 (dv = 4095), vth = 0: the
# neuron spikes in the step its input current arrives, iff the weight Lava keeps is positive.
X = np.array([[[0], [0], [1], [0], [0]]], np.uint8)  # input spike at step 2 -> current at step 3


@pytest.mark.parametrize(
    "sign_mode,weight,kept",
    [
        ("mixed", 1, 0),  # mixed sign drops the lowest bit: 1 -> 0
        ("mixed", -1, -2),  # ... arithmetic shift: -1 -> -2
        ("excitatory", 1, 1),  # excitatory keeps all 8 bits
        ("inhibitory", -1, -1),  # inhibitory too
        ("inhibitory", -3, -3),
    ],
)
@pytest.mark.parametrize("backend", ["cpu", pytest.param("lava", marks=needs_lava)])
def test_sign_mode_is_honoured_by_both_backends(tmp_path, sign_mode, weight, kept, backend):
    b = make_bundle(
        tmp_path / "b",
        1,
        [lif("n", 1, du=4095, dv=4095, vth=0)],
        [("input", "n", [[weight]], 0, sign_mode)],
        lava_rounds_weights=True,
    )
    if backend == "cpu":
        r = CPUBackend(b).run(X, record=("n",), record_v=True)
        assert r.currents["n"][0, :, 0].tolist() == [0, 0, 0, kept * 64, 0]
    else:
        from neuromotif.deploy.backends.lava import LavaBackend

        r = LavaBackend(b, timeout_s=120).run(X[:, :4], record=("n",))  # stop at step 3: final u is the current
        assert r.final_u["n"][0, 0] == kept * 64
    spikes = r.spikes["n"][0, :, 0].tolist()
    assert spikes[3] == (kept > 0) and sum(spikes) == (kept > 0)


def _bundle(tmp_path, lif_kw=None, proj=None, numeric=None):
    pops = [lif("n", 2, **{"du": 100, "dv": 100, "vth": 10, **(lif_kw or {})})]
    projs = [proj or ("input", "n", [[2, 4], [6, 8]], 0)]
    return make_bundle(tmp_path / "b", 2, pops, projs, numeric, read=False)  # written as given


@pytest.mark.parametrize(
    "lif_kw,proj,numeric,expected",
    [
        ({"du": [4096, 0]}, None, None, "population n: du = 4096 is outside 0..4095"),
        ({"du": -1}, None, None, "population n: du = -1 is outside 0..4095"),
        ({"dv": [0, 5000]}, None, None, "population n: dv = 5000 is outside 0..4095"),
        ({"vth": 131072}, None, None, "population n: vth = 131072 is outside 0..131071"),
        ({"vth": 70000}, None, {"vth_bits": 16}, "population n: vth = 70000 is outside 0..65535"),
        ({"bias_mant": [4096, 0]}, None, None, "bias_mant = 4096 is outside -4096..4095"),
        ({"bias_exp": -1}, None, None, "bias_exp = -1 is outside 0..7"),
        ({"bias_exp": 8}, None, None, "bias_exp = 8 is outside 0..7"),
        (None, ("input", "n", [[2, 300], [0, 0]], 0), None, "weights = 300 is outside -256..255 for sign_mode mixed"),
        (None, ("input", "n", [[2, -2], [0, 0]], 0, "excitatory"), None, "weights = -2 is outside 0..255"),
        (None, ("input", "n", [[2, 2], [0, 0]], 0, "inhibitory"), None, "weights = 2 is outside -255..0"),
        (None, ("input", "n", [[2, 2], [0, 0]], 0, "bogus"), None, "sign_mode = 'bogus' is outside 'mixed'"),
        (None, ("input", "n", [[2, 2], [0, 0]], -2), None, "weight_exp = -2 is outside 0..7 (a negative exponent"),
        (None, ("input", "n", [[2, 2], [0, 0]], 8), None, "weight_exp = 8 is outside 0..7"),
        (None, ("input", "n", [[2, 2], [0, 0]], 0, "mixed", 3), None, "delay = 3 is outside 1..1"),
        # weights the chip cannot store: 8-bit weights under a 4-bit format ran silently (Lava truncates them)
        (
            None,
            ("input", "n", [[32, 100], [0, 0]], 0),
            {"weight_bits": 4},
            "weight 100 does not fit numeric.weight_bits = 4 (the chip would store 96)",
        ),
        (
            None,
            ("input", "n", [[2, 3], [0, 0]], 0),
            None,
            "weight 3 does not fit numeric.weight_bits = 8 (the chip would store 2)",
        ),
        # a 9-bit single-sign weight: Lava zeroes every weight, the CPU backend kept them
        (
            None,
            ("input", "n", [[2, 4], [0, 0]], 0, "excitatory"),
            {"weight_bits": 9},
            "sign_mode excitatory with numeric.weight_bits 9: a single-sign weight has at most 8 bits",
        ),
        # a projection into the input population was dropped by the CPU backend and crashed Lava
        (None, ("n", "input", [[2, 4], [6, 8]], 0), None, "targets the input population 'input'"),
    ],
)
def test_out_of_range_fields_are_refused_with_the_field_and_range(tmp_path, capsys, lif_kw, proj, numeric, expected):
    path = _bundle(tmp_path, lif_kw, proj, numeric)
    with pytest.raises(BundleError) as err:
        read_bundle(path)
    assert expected in str(err.value) and "\n" not in str(err.value)
    assert main(["inspect", str(path)]) == 2
    err_text = capsys.readouterr().err
    assert expected in err_text and err_text.count("\n") == 1


def test_a_bundle_for_an_unknown_chip_or_with_the_input_as_output_is_refused(tmp_path):
    import json

    from neuromotif.deploy.bundle import DIGEST_KEY, manifest_digest

    for edit, expected in (
        (lambda m: (m.pop("chip_spec"), m.update(chip="loihi9")), "unknown chip 'loihi9'"),
        (lambda m: m["ports"].update(output="input"), "ports.output names the input population"),
    ):
        path = _bundle(tmp_path / expected.split()[0], None, None, None)
        manifest = json.loads((path / "manifest.json").read_text())
        edit(manifest)
        manifest[DIGEST_KEY] = manifest_digest(manifest)
        (path / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(BundleError, match=expected):
            read_bundle(path)


def test_a_sound_hand_made_bundle_reads(tmp_path):
    assert read_bundle(_bundle(tmp_path)).population("n").vth == 10
