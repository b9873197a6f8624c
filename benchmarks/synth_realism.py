#!/usr/bin/env python
"""Realism of tame.synth's OATH-like set, measured with the packaged pretrained Lite0 (issue 19's targets).

Usage: python benchmarks/synth_realism.py [--n-per-class 100] [--seed 0] [--difficulty DEFAULT] [--genuine DIR]

A classifier is trained only on the synthetic OATH-like set written by `make_oath_like` (default arguments: 100 images
per class, seed 0, the generator's default difficulty), exactly as `tame demo` does it (`AsimClassifier.from_oath`:
features of the default backbone, efficientnet_lite0 'logits', images rotated by rotAng; calibrated linear SVM, C by
grid search). Then it prints:

  (a) genuine data: how many of the 10 genuine OATH images (shared/data/oath, labels from OATH's
      classifications.csv: 3 arc, 5 diffuse, 2 discrete) are called aurora (2-class; target >= 8) and how many get
      the 6-class label right (target >= 2, chance is 10/6 = 1.7);
  (b) synthetic data: 6-class accuracy of that classifier on the synthetic set, grouped by station-night
      (the nested figure `from_oath` stores; target 0.70 .. 0.90);
  (c) synthetic data: the same grouped protocol with a fixed C (the C chosen in (b)) on the features of the
      pretrained network and of the same network with random weights (pretrained=False); target: the control at
      least 0.15 lower.  The benchmark's ridge on the same features (tame.benchmark.evaluate_networks, grouped
      protocol) is printed as well, for reference.

The 10 genuine images are only ever classified here; nothing is fitted to them. Runs in about 1-3 minutes on 2 cores.
"""
import argparse, inspect, os, tempfile, time
from pathlib import Path

import numpy as np


def main():
    from tame.synth import make_oath_like
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n-per-class', type=int, default=100)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--difficulty', type=float, default=None, help="default: make_oath_like's default")
    ap.add_argument('--genuine', default=None, help='genuine OATH tree (classifications/, images/cropped_scaled/)')
    a = ap.parse_args()
    import logging; logging.getLogger('tame').setLevel(logging.ERROR)
    import warnings; warnings.filterwarnings('ignore')
    from tame.backbones import DEFAULT_BACKBONE
    from tame.benchmark import CONTROL_SUFFIX, evaluate_networks
    from tame.featurefiles import feature_cache_file
    from tame.classify import AsimClassifier
    from tame.svm import svm_pipeline
    from tame.core import CLASSES
    from tame.featurefiles import read_features
    from tame.oath import oath_table, read_classifications
    from tame.protocols import grouped_protocol, night_groups

    here = Path(__file__).resolve().parent.parent
    genuine = Path(a.genuine) if a.genuine else next(p for p in [here.parent / 'shared/data/oath', here / 'nbs/data/oath']
                                                         if (p / 'images/cropped_scaled').is_dir())
    diff = a.difficulty if a.difficulty is not None else inspect.signature(make_oath_like).parameters['difficulty'].default
    t_all = time.perf_counter()
    rows = []
    def show(key, protocol, data, value, target, met):
        rows.append((key, protocol, data, value, target, met))
        print(f'{key:<4}{value:<10}{"met" if met else "NOT met":<9}target {target}; {protocol}; data: {data}', flush=True)
    with tempfile.TemporaryDirectory(prefix='tame-realism-') as work:
        work = Path(work)
        t = time.perf_counter()
        oath = make_oath_like(work / 'oath_synth', a.n_per_class, seed=a.seed, difficulty=diff, progress=False)
        n = 6 * a.n_per_class
        print(f'synthetic OATH-like set: {n} images (seed {a.seed}, difficulty {diff}) in {time.perf_counter() - t:.1f} s', flush=True)
        cache = work / 'features'
        t = time.perf_counter()
        bench = evaluate_networks(oath, [DEFAULT_BACKBONE, DEFAULT_BACKBONE + CONTROL_SUFFIX], cache_dir=cache, progress=False)
        print(f'features of both networks in {time.perf_counter() - t:.1f} s', flush=True)
        t = time.perf_counter()
        clf = AsimClassifier.from_oath(oath, torch_path=work / 'torch', progress=False,
                                       features_file=feature_cache_file(oath, DEFAULT_BACKBONE, cache_dir=cache))
        print(f'classifier (from_oath, linear SVM, nested grid search) in {time.perf_counter() - t:.1f} s', flush=True)
        # (a) the 10 genuine images
        lab = read_classifications(genuine / 'classifications/classifications.csv').set_index('picNum')
        files = sorted((genuine / 'images/cropped_scaled').glob('*.png'))
        res = clf.classify_images([str(f) for f in files], kind='oath', progress=False)
        true6 = np.array([int(lab.loc[f.stem, 'class6']) for f in files])
        pred6 = res.class6.to_numpy()
        n_aur = int(np.isin(pred6, [0, 1, 2]).sum()); n_true_aur = int(np.isin(true6, [0, 1, 2]).sum())
        n_right = int((pred6 == true6).sum())
        print('\ngenuine OATH images (true -> predicted, aurora probability):')
        for f, t6, p6, pa in zip(files, true6, pred6, res.aurora_prob):
            print(f'  {f.stem}  {CLASSES[t6]:<9} -> {CLASSES[p6] if p6 >= 0 else "?":<9} {pa:.2f}')
        print()
        data_g = f'{len(files)} genuine OATH images ({n_true_aur} aurora), classifier trained on {n} synthetic images'
        show('a1', '2-class: predicted arc/diffuse/discrete', data_g, f'{n_aur}/{len(files)}', '>= 8/10', n_aur >= 8)
        show('a2', '6-class label right', data_g, f'{n_right}/{len(files)}', '>= 2/10 (chance 1.7)', n_right >= 2)
        # (b) the classifier's grouped figure
        m = clf.meta
        g6 = m.get('acc6_grouped_by_night')
        show('b', f"6-class, linear SVM, outer folds grouped by station-night ({m.get('grouped_by')}), C nested",
             f'{n} synthetic images', f'{g6:.3f}' if g6 is not None else 'n/a', '0.70 .. 0.90', g6 is not None and 0.70 <= g6 <= 0.90)
        # (c) the random-weight control, same protocol
        table = oath_table(oath)
        y, groups = table.class6.to_numpy(), night_groups(table)
        acc = {}
        for pre in (True, False):
            f = read_features(feature_cache_file(oath, DEFAULT_BACKBONE, pretrained=pre, cache_dir=cache, table=table))
            X = f.loc[table.picNum].filter(like='feat_').to_numpy()
            acc[pre] = grouped_protocol(X, y, groups, svm_pipeline('linear', float(m['C']))).mean6
        gap = acc[True] - acc[False]
        show('c', f"6-class, linear SVM C={float(m['C']):g}, GroupKFold(5) by station-night; pretrained {acc[True]:.3f}, "
             f"random weights {acc[False]:.3f}", f'{n} synthetic images', f'{gap:+.3f}', 'control >= 0.15 lower', gap >= 0.15)
        ridge = {r.pretrained: r.acc6_mean for r in bench.itertuples()}
        print(f'    reference: benchmark ridge (evaluate_networks, grouped): pretrained {ridge[True]:.3f}, '
              f'random weights {ridge[False]:.3f} (difference {ridge[True] - ridge[False]:+.3f}); {n} synthetic images')
        print(f'    classifier on OATH\'s splits (synthetic): {m.get("acc6_oath_protocol", float("nan")):.3f}')
    print(f'\n{sum(r[-1] for r in rows)} of {len(rows)} targets met; total {time.perf_counter() - t_all:.0f} s '
          f'({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})')


if __name__ == '__main__': main()
