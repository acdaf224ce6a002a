"""Sections of the augmentation study (:mod:`orbitspace.studies.augmentation`): latent orbits
per layer, the feature maps compared (raw codes, learned-action projections, input alignment,
the escnn model's invariants), the learned latent action and the orbit figure.

Top-level imports are light; torch and matplotlib are imported inside the functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from orbitspace.studies._augmentation_results import CompareRow, LearnedActionRow


# -- codes -----------------------------------------------------------------------------------
def _layers(model: Any, x: Any) -> dict[str, Any]:
    """Named intermediate codes of a batch ``x`` (n, 1, 28, 28)."""
    if getattr(model, "kind", None) == "plain":
        out, h = {}, x
        names = {3: "block 1 (pooled map)", 7: "block 2 (pooled map)", 10: "block 3 (map)"}
        for i, layer in enumerate(model.blocks):
            h = layer(h)
            if i in names:
                out[names[i]] = h
        z = h.mean(dim=(-2, -1))
        out["latent"] = z
        out["head hidden"] = model.head[:3](z)
        return out
    z = model.latent(x)
    return {"latent": z, "invariant pooling": model.invariant(z)}


def _orbit_codes(model: Any, images: np.ndarray, labels: np.ndarray, n_angles: int):
    """Latent codes (n, n_angles, D) and per-layer orbit statistics."""
    import torch

    from orbitspace.datasets.rotation import rotate_images
    from orbitspace.learned import OrbitAccumulator

    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32))[:, None]
    accs: dict[str, OrbitAccumulator] = {}
    latent = []
    with torch.no_grad():
        for j in range(n_angles):
            xr = rotate_images(x, np.full(len(x), 2 * np.pi * j / n_angles))
            outs: dict[str, list] = {}
            for start in range(0, len(x), 250):
                for name, value in _layers(model, xr[start : start + 250]).items():
                    outs.setdefault(name, []).append(value.double().flatten(1).numpy())
            for name, parts in outs.items():
                accs.setdefault(name, OrbitAccumulator(labels)).add(np.concatenate(parts))
            latent.append(np.concatenate(outs["latent"]))
    stats = {name: acc.result() for name, acc in accs.items()}
    return np.stack(latent, axis=1), stats


def _balanced_digits(load_mnist: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n // 10`` test digits of each class, interleaved (0, 1, ..., 9, 0, 1, ...)."""
    per = max(1, n // 10)
    images, labels = load_mnist("test", min(10000, 40 * per + 200))
    idx = np.stack([np.flatnonzero(labels == c)[:per] for c in range(10)], axis=1).reshape(-1)
    return np.array(images[idx], dtype=np.float32), np.asarray(labels[idx])


def _encoder(model: Any):
    import torch

    def encode(x: Any) -> np.ndarray:
        with torch.no_grad():
            xt = torch.as_tensor(np.asarray(x, dtype=np.float32))
            if xt.ndim == 3:
                xt = xt[:, None]
            return torch.cat([model.latent(xt[i : i + 250]) for i in range(0, len(xt), 250)])

    return encode


# -- the comparison --------------------------------------------------------------------------
def _normalised_invariance(F0: np.ndarray, F1: np.ndarray) -> float:
    """RMS ``‖F1 − F0‖`` over the RMS distance between two random samples' features."""
    spread = np.sqrt(2.0 * np.mean(np.sum((F0 - F0.mean(axis=0)) ** 2, axis=1)))
    err = np.sqrt(np.mean(np.sum((F1 - F0) ** 2, axis=1)))
    return float(err / spread) if spread > 0 else float("nan")


def _feature_maps(key: str, entry: Any, learned: Any, fit_images: np.ndarray, cfg: Any):
    """name -> function(images) -> features (n, m)."""
    from orbitspace._array import to_numpy
    from orbitspace.invariants import align_to_reference, power_spectrum
    from orbitspace.models.input_alignment import InputAlignment

    model = entry.model
    enc = _encoder(model)

    def raw(images):
        return to_numpy(enc(images)).astype(np.float64)

    ref_code = raw(fit_images[:1])
    maps = {"raw latent": raw}
    if learned is not None:
        action = learned.action
        ref = np.asarray(learned.transform(ref_code))

        maps["learned action: align to reference"] = lambda im: np.asarray(
            align_to_reference(learned.transform(raw(im)), action, ref)
        )
        maps["learned action: power spectrum"] = lambda im: np.asarray(
            power_spectrum(learned.transform(raw(im)), action)
        )
    if key.startswith("escnn"):
        known = model.latent_action()

        def builtin(im):
            import torch

            with torch.no_grad():
                return to_numpy(model.invariant(enc(im))).astype(np.float64)

        maps["known action: align to reference"] = lambda im: np.asarray(
            align_to_reference(raw(im), known, ref_code)
        )
        maps["built-in invariant pooling"] = builtin
    aligner = InputAlignment(enc, n_angles=cfg.align_angles).fit(fit_images, random_state=cfg.seed)
    maps["input alignment"] = lambda im: to_numpy(aligner.transform(im)).astype(np.float64)
    return maps, aligner


def _compare(maps: dict, images: np.ndarray, labels: np.ndarray, cfg: Any) -> dict[str, CompareRow]:
    """Probe accuracy (the analysis pipeline's :func:`~orbitspace.report.stages.measure_probes`)
    and invariance under real input rotations of every feature map; ``cfg`` is the study's
    :class:`~orbitspace.studies.augmentation.AugmentationSettings`."""
    from orbitspace.datasets.rotation import rotate_images
    from orbitspace.report.stages import measure_probes

    rng = np.random.default_rng(cfg.seed + 1)
    n = len(images)
    alpha = rng.uniform(0, 2 * np.pi, n)
    beta = rng.uniform(0, 2 * np.pi, n)
    k = rng.integers(1, cfg.N, n)
    x0 = rotate_images(images, alpha)
    x_cont = rotate_images(images, alpha + beta)
    x_grid = rotate_images(images, alpha + 2 * np.pi * k / cfg.N)
    cv = int(min(3 if cfg.quick else 5, np.bincount(labels).min()))
    rows = {}
    for name, fn in maps.items():
        F0 = fn(x0)
        block = measure_probes(
            {name: F0},
            labels,
            task="classification",
            probes=("linear", "knn"),
            cv=cv,
            random_state=cfg.seed,
            catch_errors=False,
        )
        scores = block.results[name].scores
        rows[name] = CompareRow(
            representation=name,
            dim=int(F0.shape[1]),
            invariance_error_any_angle=_normalised_invariance(F0, fn(x_cont)),
            invariance_error_grid=_normalised_invariance(F0, fn(x_grid)),
            N=cfg.N,
            linear_probe_accuracy=scores["linear"]["accuracy"][0],
            knn_probe_accuracy=scores["knn"]["accuracy"][0],
        )
    return rows


# -- learned action --------------------------------------------------------------------------
def _learned_actions(
    key: str, entry: Any, codes: np.ndarray, cfg: Any
) -> tuple[list[LearnedActionRow], Any]:
    """Fit estimate_action for each N and principal-subspace choice; return rows and the one
    used downstream (N = cfg.N, every direction)."""
    import warnings

    from orbitspace import OrbitspaceWarning
    from orbitspace.learned import estimate_action, frequency_content

    M = codes.shape[1]
    rows, chosen = [], None
    known = entry.model.latent_action()
    for N in (4, cfg.N):
        if M % N:
            continue
        orbits = codes[:, :: M // N]
        for comps in (None,) if cfg.quick else (None, 0.95):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", OrbitspaceWarning)
                learned = estimate_action(
                    orbits, N=N, n_components=comps, test_size=0.3, random_state=cfg.seed
                )
            freqs = known_err = None
            if known is not None:
                exp = frequency_content(known, N)
                freqs = {str(k): v for k, v in exp.items()}
                known_err = _known_error(known, orbits, learned)
            rows.append(
                LearnedActionRow(
                    model=key,
                    N=N,
                    subspace="all" if comps is None else "95% var",
                    learned=learned,
                    warning="; ".join(str(w.message) for w in caught) or None,
                    frequencies_of_known_action=freqs,
                    equivariance_error_known_action=known_err,
                )
            )
            if N == cfg.N and comps is None:
                chosen = learned
    return rows, chosen


def _known_error(known: Any, orbits: np.ndarray, learned: Any) -> float:
    """Relative error of the network's own latent action on the same consecutive pairs."""
    from orbitspace.learned import relative_error

    N = orbits.shape[1]
    # the element rotating by 2π/N: an index of the finite group C_M (M/N steps), else an angle
    g = known.order // N if known.order is not None else 2 * np.pi / N
    centred = orbits - learned.mean
    Z0, Z1 = (
        centred.reshape(-1, orbits.shape[-1]),
        np.roll(centred, -1, axis=1).reshape(-1, orbits.shape[-1]),
    )
    return relative_error(np.asarray(known.act(g, Z0)), Z1)


def _freq_text(freqs: dict) -> str:
    return ", ".join(f"{k}:{v}" for k, v in sorted(freqs.items(), key=lambda kv: int(kv[0])))


# -- figure ----------------------------------------------------------------------------------
def _orbit_figure(all_codes: dict, labels: np.ndarray, models: dict):
    from orbitspace.plot import new_figure
    from orbitspace.plot._style import categorical_colors

    picks = [int(np.flatnonzero(labels == c)[0]) for c in range(10) if np.any(labels == c)][:6]
    fig = new_figure((4.0 * len(all_codes), 4.0))
    colors = categorical_colors(10)
    for p, (key, codes) in enumerate(all_codes.items()):
        ax = fig.add_subplot(1, len(all_codes), p + 1)
        flat = codes.reshape(-1, codes.shape[-1])
        mean = flat.mean(axis=0)
        _, _, Vt = np.linalg.svd(flat - mean, full_matrices=False)
        for i in picks:
            E = (codes[i] - mean) @ Vt[:2].T
            E = np.vstack([E, E[:1]])
            c = colors[labels[i]]
            ax.plot(E[:, 0], E[:, 1], "-o", color=c, ms=2.5, lw=1, label=f"digit {labels[i]}")
            ax.plot(E[0, 0], E[0, 1], "*", color=c, ms=10, mec="black", mew=0.5)
        ax.set_title(models[key].label, fontsize=9)
        ax.set_xlabel("PC 1")
        ax.set_ylabel("PC 2")
        if p == 0:
            ax.legend(fontsize=7)
    return fig
