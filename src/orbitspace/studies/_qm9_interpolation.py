"""Interpolation section of the QM9 study (:mod:`orbitspace.studies.qm9`): the straight line
between raw codes vs the quotient geodesic, decoded, with validity and graph edits along the path.

RDKit and matplotlib are imported inside the functions.
"""

from __future__ import annotations

import numpy as np

from orbitspace.studies._qm9_results import InterpolationSummary, PathStats


def _edits(a, b) -> np.ndarray:
    """Slot-wise graph edits between consecutive decoded graphs along each path."""
    iu = np.triu_indices(a.shape[-1], 1)
    da = (a[:, 1:] != a[:, :-1]).sum(-1)
    eb = b[..., iu[0], iu[1]]
    db = (eb[:, 1:] != eb[:, :-1]).sum(-1)
    return (da + db).sum(-1)


def interpolation_section(rep, model, z, graphs, n_pairs: int, rng, d: int) -> InterpolationSummary:
    from orbitspace.datasets.qm9 import graph_to_smiles
    from orbitspace.groups import Permutation
    from orbitspace.plot.charts import line_chart
    from orbitspace.stats import geodesic_interpolation

    rep.section(f"Interpolation (d = {d}): raw straight line vs quotient geodesic")
    action = Permutation(9)
    t = np.linspace(0.0, 1.0, 9)
    # endpoints: molecules the model reconstructs exactly, so the path is what is measured
    a_end, b_end = model.decode_numpy(z)
    exact = np.all(a_end == graphs[0], axis=1) & np.all(b_end == graphs[1], axis=(1, 2))
    pool = np.flatnonzero(exact) if exact.sum() >= 2 else np.arange(len(z))
    i = rng.choice(pool, n_pairs, replace=len(pool) < 2 * n_pairs)
    j = rng.choice(pool, n_pairs, replace=len(pool) < 2 * n_pairs)
    same = i == j
    j[same] = pool[(np.searchsorted(pool, j[same]) + 1) % len(pool)]
    paths = {
        "raw line": (1 - t)[None, :, None, None] * z[i, None] + t[None, :, None, None] * z[j, None],
        "quotient geodesic": np.stack(
            [np.asarray(geodesic_interpolation(z[a], z[b], t, action)) for a, b in zip(i, j)]
        ),
    }
    summary, valid_t, decoded = {}, {}, {}
    for name, P in paths.items():
        a, b = model.decode_numpy(P.reshape(-1, 9, P.shape[-1]))
        a, b = a.reshape(n_pairs, len(t), 9), b.reshape(n_pairs, len(t), 9, 9)
        smiles = np.array(
            [
                [graph_to_smiles(a[p, k], b[p, k]) or "" for k in range(len(t))]
                for p in range(n_pairs)
            ]
        )
        valid = smiles != ""
        changes = (smiles[:, 1:] != smiles[:, :-1]).sum(1)
        distinct = [len(set(row[row != ""])) for row in smiles]
        length = np.linalg.norm((P[:, 1:] - P[:, :-1]).reshape(n_pairs, len(t) - 1, -1), axis=-1)
        summary[name] = PathStats(
            valid_all_steps=float(valid.mean()),
            valid_interior_steps=float(valid[:, 1:-1].mean()),
            paths_all_valid=float(valid.all(1).mean()),
            slot_edits_per_path=float(_edits(a, b).mean()),
            molecule_changes_per_path=float(changes.mean()),
            distinct_molecules_per_path=float(np.mean(distinct)),
            path_length_mean=float(length.sum(1).mean()),
        )
        valid_t[name] = valid.mean(0)
        decoded[name] = smiles
    result = InterpolationSummary(n_pairs, len(t), int(len(pool)), summary)
    rep.add_metrics(("interpolation", f"d{d}"), result.to_dict())
    rep.table(
        [{"path": k, **v.to_dict()} for k, v in summary.items()],
        caption=f"{n_pairs} pairs of test molecules (random atom orders) drawn from the "
        f"{len(pool)} that the d = {d} model reconstructs exactly; {len(t)} decoded steps each. "
        "Slot edits: atom-type and bond changes between consecutive decoded graphs "
        "(an upper bound on the graph edit distance); path length in code space.",
    )
    rep.figure(
        line_chart(
            t, valid_t, xlabel="t", ylabel="valid fraction", title="RDKit validity along the path"
        ),
        "Fraction of decoded graphs that RDKit sanitises at each step.",
    )
    rep.figure(
        _strips(decoded, min(3, n_pairs)),
        "Decoded molecules along three paths "
        "(top row of each pair: raw line; bottom: quotient geodesic; × = invalid).",
    )
    return result


def _strips(decoded: dict[str, np.ndarray], n_show: int):
    from rdkit import Chem
    from rdkit.Chem import Draw

    from orbitspace.plot._style import new_figure

    names = list(decoded)
    n_steps = decoded[names[0]].shape[1]
    fig = new_figure((1.3 * n_steps, 1.45 * n_show * len(names)))
    axes = fig.subplots(n_show * len(names), n_steps, squeeze=False)
    for p in range(n_show):
        for r, name in enumerate(names):
            row = p * len(names) + r
            for k in range(n_steps):
                ax = axes[row, k]
                ax.set_xticks([])
                ax.set_yticks([])
                smi = decoded[name][p, k]
                if smi:
                    img = Draw.MolToImage(Chem.MolFromSmiles(smi), size=(160, 160))
                    ax.imshow(np.asarray(img))
                else:  # a blank image keeps the cell the same size as the drawn ones
                    ax.imshow(np.ones((160, 160, 3)))
                    ax.text(80, 80, "×", ha="center", va="center", fontsize=20, color="#d03030")
                if k == 0:
                    ax.set_ylabel(f"pair {p + 1}\n{name}", fontsize=7)
                if row == 0:
                    ax.set_title(f"t={k / (n_steps - 1):.2f}", fontsize=7)
    return fig
