"""``report.html``: the whole report as one self-contained page.

Everything ``report.md`` holds, plus the search history, the quantization report per projection
and population, the per-layer divergence table, the design-rule headroom of every core and (when
the run is part of a sweep) the Pareto front. Figures are embedded as PNG data URIs, so the file
needs no network and no neighbouring files; tables sort by a click on their header (a few lines
of plain JavaScript, no framework). On load the page records how many of its images decoded
(``body[data-images-loaded]``) and its height, which the browser test reads.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from neuromotif.hw_models.plots import RESOURCES

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:13px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f4f4f4;cursor:pointer;user-select:none}td:first-child,th:first-child{text-align:left}
img{max-width:100%;display:block;margin:.8em 0}.note{color:#555;font-size:13px}.warn{color:#a40}
code{background:#f4f4f4;padding:1px 4px;border-radius:3px}
"""

SCRIPT = """
document.querySelectorAll('table.sortable th').forEach(function(th, col){
  th.addEventListener('click', function(){
    var body = th.closest('table').tBodies[0], rows = Array.from(body.rows), asc = th.dataset.asc !== '1';
    rows.sort(function(a, b){
      var x = a.cells[col].dataset.v || a.cells[col].textContent, y = b.cells[col].dataset.v || b.cells[col].textContent;
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return asc ? c : -c;
    });
    rows.forEach(function(r){ body.appendChild(r); });
    th.dataset.asc = asc ? '1' : '0';
  });
});
window.addEventListener('load', function(){
  var imgs = Array.from(document.images), ok = imgs.filter(function(i){ return i.complete && i.naturalWidth > 0; });
  document.body.dataset.imagesLoaded = ok.length + '/' + imgs.length;
  document.body.dataset.pageHeight = String(document.documentElement.scrollHeight);
});
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _num(value: Any, fmt: str = "{:.4g}") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return fmt.format(value)
    return _e(value)


def neurobench_lines(nb: dict | None) -> list[str]:
    """NeuroBench's metrics in one line, for report.md and report.html (hw_models/neurobench.py;
    None: a report from before them)."""
    if not nb:
        return []
    ops = nb["synaptic_operations"]
    return [
        f"NeuroBench metrics: footprint {nb['footprint_bytes'] / 1024:.1f} KiB, connection sparsity "
        f"{nb['connection_sparsity']:.3f}, activation sparsity {nb['activation_sparsity']:.3f}, synaptic "
        f"operations per inference {ops['effective_acs']:.0f} effective ACs (dense {ops['dense']:.3g}), "
        f"membrane updates {nb['membrane_updates']:.0f} (the chip performs {nb['active_updates']:.0f}).",
        "",
    ]


def span(pair: list[float], scale: float) -> str:
    """``low-high`` of a [low, high] pair in display units (the reports' and the CLI's brackets)."""
    return f"{pair[0] * scale:.3g}-{pair[1] * scale:.3g}"


def mode_phrase(op: dict[str, Any]) -> str:
    """E.g. ``throughput mode, static power per chip`` (report.json's ``operation``)."""
    return f"{op['mode']} mode, static power {op['static_accounting'].replace('_', ' ')}"


def pct(value: float | None) -> str:
    """A fraction as a percentage with two decimals ("-" when absent): the reports' one format."""
    return "-" if value is None else f"{100 * value:.2f} %"


def table(header: list[str], rows: list[list[Any]], sortable: bool = True) -> str:
    """An HTML table; a cell given as (shown, sort_value) sorts by its value."""

    def cell(c: Any) -> str:
        if isinstance(c, tuple):
            return f'<td data-v="{_e(c[1])}">{c[0]}</td>'
        return f"<td>{c}</td>"

    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(c) for c in row) + "</tr>" for row in rows)
    return (
        f'<table class="{"sortable" if sortable else ""}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def _image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{_e(path.stem)}" src="data:image/png;base64,{data}">'


def headroom_rows(resources: dict[str, Any], limits: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Per core: each limited resource's use in % of its limit, and the tightest one."""
    limited = [(used, lim) for used, lim in RESOURCES if limits.get(lim)]
    header = [
        "core",
        "chip",
        "population",
        "neurons",
        *[f"{u.replace('_', ' ')} %" for u, _ in limited],
        "tightest",
        "headroom %",
    ]
    rows = []
    for c in resources["per_core"]:
        use = {u: 100.0 * c[u] / limits[lim] for u, lim in limited}
        tight = max(use, key=use.__getitem__) if use else "-"
        rows.append(
            [
                c["core"],
                c["chip"],
                _e(c["population"]),
                c["stop"] - c["start"],
                *[(f"{use[u]:.1f}", use[u]) for u, _ in limited],
                _e(tight.replace("_", " ")),
                (f"{100 - use[tight]:.1f}", 100 - use[tight]) if use else "-",
            ]
        )
    return header, rows


def render_html(
    r: dict[str, Any],
    run_dir: Path,
    plots: list[str],
    limits: dict[str, Any],
    search_rows: list[dict[str, Any]],
    pareto: list[dict[str, Any]] | None,
) -> str:
    a, e, lat, net, res = r["accuracy"], r["energy"], r["latency"], r["network"], r["resources"]
    agree = r["agreement"]
    synthetic = " (synthetic speech)" if r["dataset"]["synthetic"] else ""
    parts = [
        f"<h1>neuromotif report: {_e(r['dataset']['name'])} on {_e(r['chip'])}</h1>",
        f"<p>Network {_e(net['architecture'])}: {net['neurons']:,} neurons, {net['synapses']:,} synapses, "
        f"{net['inputs']} inputs, {net['classes']} classes; motif size {_e(net['motif_size'])}. Dataset "
        f"{_e(r['dataset']['name'])}{synthetic}, {r['dataset']['samples']} {_e(r['dataset']['split'])} samples, "
        f"seed {r['seed']}.</p>",
    ]
    figure = {name: _image(run_dir / name) for name in plots if (run_dir / name).exists()}
    parts += [
        figure.get("network.png", ""),
        "<h2>Accuracy at each precision</h2>",
        table(
            ["float", "quantized (torch chip)", "fixed point (CPU)", f"Lava (first {a['lava_samples']})"],
            [[pct(a["float"]), pct(a["quantized"]), pct(a["fixed_cpu"]), pct(a["lava"])]],
            sortable=False,
        ),
        f"<p>CPU vs Lava: <b>{agree['cpu_vs_lava_spike_mismatches']} spike mismatches</b> in "
        f"{agree.get('lava_entries_compared') or 0:,} (sample, step, neuron) entries holding "
        f"{agree.get('lava_spikes') or 0:,} spikes. The torch chip precision predicts the fixed point's class "
        f"for {pct(agree.get('quantized_vs_fixed_prediction_agreement'))} of samples; float for "
        f"{pct(agree.get('float_vs_fixed_prediction_agreement'))}.</p>",
        figure.get("accuracy.png", ""),
        "<h2>Float, quantized and fixed point, layer by layer</h2>",
        table(
            [
                "layer",
                "float = fixed spikes",
                "quantized = fixed spikes",
                "v RMS float",
                "v RMS quantized",
                "first diverging step (float)",
            ],
            [
                [
                    _e(name),
                    pct(d.get("float_vs_fixed_spike_agreement")),
                    pct(d.get("quantized_vs_fixed_spike_agreement")),
                    _num(d.get("float_vs_fixed_v_rms")),
                    _num(d.get("quantized_vs_fixed_v_rms")),
                    _num(d.get("float_vs_fixed_first_diverging_step")),
                ]
                for name, d in agree["per_layer"].items()
            ],
        ),
    ]
    b = e["breakdown"]
    parts += [
        "<h2>Energy and latency (model outputs, not measurements)</h2>",
        f"<p>Per inference, {_e(mode_phrase(r['operation']))}: <b>{e['per_inference_J'] * 1e6:.3f} µJ</b> "
        f"[{span(e['bounds_J'], 1e6)}] and <b>{lat['per_inference_s'] * 1e3:.3f} ms</b> "
        f"[{span(lat['bounds_s'], 1e3)}] ({r['activity']['timesteps']} steps, mean "
        f"{lat['per_step_s'] * 1e6:.2f} µs per step). Brackets: the cost table's uncertainty "
        f"({_e(r['operation']['uncertainty_source'])}).</p>",
        table(
            ["mode", "µJ per inference", "low", "high", "static µJ", "ms per inference", "low", "high"],
            [
                [
                    _e(name),
                    (f"{m['per_inference_J'] * 1e6:.4g}", m["per_inference_J"]),
                    (f"{m['bounds']['per_inference_J'][0] * 1e6:.4g}", m["bounds"]["per_inference_J"][0]),
                    (f"{m['bounds']['per_inference_J'][1] * 1e6:.4g}", m["bounds"]["per_inference_J"][1]),
                    (f"{m['static_J'] * 1e6:.4g}", m["static_J"]),
                    (f"{m['latency_s'] * 1e3:.4g}", m["latency_s"]),
                    (f"{m['bounds']['latency_s'][0] * 1e3:.4g}", m["bounds"]["latency_s"][0]),
                    (f"{m['bounds']['latency_s'][1] * 1e3:.4g}", m["bounds"]["latency_s"][1]),
                ]
                for name, m in r["modes"].items()
            ],
        ),
        table(
            ["component", "µJ per inference", "share"],
            [
                [_e(k.replace("_", " ")), (f"{v * 1e6:.4f}", v), f"{100 * v / e['per_inference_J']:.1f} %"]
                for k, v in b.items()
            ],
        ),
        table(["time", "ms per inference"], [[_e(k), (f"{v * 1e3:.4f}", v)] for k, v in lat["breakdown_s"].items()]),
        f"<p class='note'>Cost table <code>{_e(e['cost_table'])}</code>: {_e(e['cost_table_source'])}."
        + (f" Assumption: {_e(e['assumption'])}" if e["assumption"] else "")
        + "</p>",
        figure.get("energy.png", ""),
    ]
    ov = r.get("overflow", {})
    if ov.get("warnings"):
        parts += ["<h2>Overflow predicted</h2>"] + [f"<p class='warn'>{_e(w)}</p>" for w in ov["warnings"]]
    act = r["activity"]
    parts += [
        f"<p>Activity per inference: {act['spikes_per_inference']:.0f} spikes, {act['synops_per_inference']:.0f} "
        f"synaptic ops, {act['messages_per_inference']:.0f} spike messages "
        f"({act['input_messages_per_inference']:.0f} from the host's input spikes).</p>",
        *[f"<p>{_e(line)}</p>" for line in neurobench_lines(r.get("neurobench")) if line],
        "<h2>Resources and design-rule headroom</h2>",
        f"<p>{res['cores']} cores on {res['chips']} chip(s), {res['tiles']} tiles: "
        + ", ".join(f"{_e(k)} {v:,}" for k, v in res["totals"].items())
        + ".</p>",
        table(*headroom_rows(res, limits)),
        figure.get("utilisation.png", ""),
        figure.get("placement.png", ""),
        figure.get("raster.png", ""),
        "<h2>Quantization</h2>",
        table(
            ["projection", "weight exponent", "clipped", "rel. RMS error", "max |w| (float)"],
            [
                [_e(name), q["weight_exp"], pct(q["clip_fraction"]), pct(q["rel_rms_error"]), _num(q["max_abs_float"])]
                for name, q in r["quantization"]["projections"].items()
            ],
        ),
        table(
            [
                "population",
                "neurons",
                "scale",
                "vth",
                "du",
                "profiles",
                "dv values before clustering",
                "largest dv shift",
            ],
            [
                [
                    _e(name),
                    q["neurons"],
                    q["scale"],
                    q["vth"],
                    q["du"],
                    q["profiles"],
                    q["dv_distinct_before_clustering"],
                    q["dv_max_cluster_shift"],
                ]
                for name, q in r["quantization"]["populations"].items()
            ],
        ),
    ]
    if search_rows:
        s = r["search"]
        parts += [
            "<h2>Search (HRMAS)</h2>",
            f"<p>{s['iterations']} iterations ({s['seconds']:.0f} s): motif size {s['chosen_motif_size']}.</p>",
            table(
                [
                    "iteration",
                    "temperature",
                    "weight loss",
                    "arch loss",
                    "val accuracy",
                    "chosen size",
                    "size probabilities",
                ],
                [
                    [
                        row["iteration"],
                        _num(row.get("temperature")),
                        _num(row.get("weight_loss")),
                        _num(row.get("arch_loss")),
                        pct(row.get("val_accuracy")),
                        _e(row.get("chosen_motif_size")),
                        _e(", ".join(f"{k}: {v:.2f}" for k, v in row.get("size_probabilities", {}).items())),
                    ]
                    for row in search_rows
                ],
            ),
        ]
        for name in ("search/search_history.png", "search/motif_types.png"):
            if (run_dir / name).exists():
                parts.append(_image(run_dir / name))
    if pareto:
        keys = [k for k in pareto[0] if not isinstance(pareto[0][k], (dict, list))]
        parts += ["<h2>Pareto front</h2>", table(keys, [[_num(p[k]) for k in keys] for p in pareto])]
    parts += [
        "<h2>Reproduce</h2>",
        f"<pre>neuromotif run {_e(run_dir)}/config.yaml --out {_e(run_dir)} --force</pre>",
        "<p class='note'>Versions: " + ", ".join(f"{_e(k)} {_e(v)}" for k, v in r["versions"].items() if v) + ".</p>",
    ]
    body = "\n".join(p for p in parts if p)
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>neuromotif report: "
        f"{_e(r['dataset']['name'])}</title><style>{STYLE}</style></head><body>\n{body}\n<script>{SCRIPT}</script>"
        "</body></html>\n"
    )


def read_search_rows(run_dir: Path) -> list[dict[str, Any]]:
    history = run_dir / "search" / "history.jsonl"
    return [json.loads(line) for line in history.read_text().splitlines() if line.strip()] if history.exists() else []
