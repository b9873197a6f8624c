#!/usr/bin/env python
"""Archive preprocessing on Dask: images/s with 1 and 2 local workers, and the ratio (plus the serial run for reference).

Usage: python benchmarks/scale.py [--hours 12] [--stations NYA LYR] [--cadence-s 180] [--batch-size 64] [--workers 1 2]
A synthetic archive (tame.synth) of --stations x --hours at --cadence-s, one wavelength, is processed with the embedded
EfficientNet-Lite0 and a classifier fitted on a small synthetic OATH-like set. Each run writes into a fresh folder.
Workers are LocalCluster processes with one thread each (Dask sets OMP_NUM_THREADS=1 in them); the serial run uses this
process with torch's default threads and a loader process. Times include the network load on each worker (once per
worker) but not the cluster start and the workers' imports of torch and tame, printed separately (cluster_start_s). The malloc setting each engine ran with is printed.
"""
import argparse, os, tempfile, time
from pathlib import Path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--hours', type=float, default=12); ap.add_argument('--stations', nargs='+', default=['NYA', 'LYR'])
    ap.add_argument('--cadence-s', type=int, default=180); ap.add_argument('--batch-size', type=int, default=64)
    ap.add_argument('--workers', type=int, nargs='+', default=[1, 2])
    a = ap.parse_args()
    import pandas as pd, torch
    from dask.distributed import Client, LocalCluster
    from tame.preprocess import PreProcessor, loaded_engines
    from tame.classify import AsimClassifier
    from tame.synth import make_oath_like
    from tame.synth_archive import make_asim_archive

    tmp = Path(tempfile.mkdtemp(prefix='tame-scale-'))
    AsimClassifier.from_oath(make_oath_like(tmp / 'oath', 10, seed=0, progress=False), torch_path=tmp / 'torch', C=0.01, progress=False)
    start = pd.Timestamp('2010-11-30 18:00')
    arch = make_asim_archive(tmp / 'arch', start, start + pd.Timedelta(hours=a.hours), tuple(a.stations), cadence_s=a.cadence_s,
                             seed=1, wavelengths=(5577,), progress=False)
    n = sum(1 for _ in (tmp / 'arch' / 'asim').rglob('*.png'))
    months = sorted({p.name.split('_')[1][:6] for p in (tmp / 'arch' / 'asim').rglob('*.png')})
    print(f'archive: {n} images, {len(a.stations)} stations x {len(months)} months = {len(a.stations) * len(months)} partitions; '
          f'{os.cpu_count()} CPU cores; torch {torch.__version__}; batch {a.batch_size}')

    def pp(out): return PreProcessor(asim_path=arch['asim'], torch_path=tmp / 'torch', data_path=tmp / out, batch_size=a.batch_size)
    rows = []
    p = pp('serial'); t = time.perf_counter(); p.proc_asim(progress=False); dt = time.perf_counter() - t
    malloc = '; '.join(sorted({e['malloc'] for e in loaded_engines()})) or '?'
    rows.append(dict(run='serial (no Dask)', workers='-', seconds=dt, img_per_s=n / dt, malloc=malloc, cluster_start_s=float('nan')))
    for w in a.workers:
        t = time.perf_counter()
        cluster = LocalCluster(n_workers=w, threads_per_worker=1, processes=True, dashboard_address=':0')
        client = Client(cluster)
        client.run(lambda: __import__('tame.preprocess'))            # import torch and tame on every worker before timing
        t_start = time.perf_counter() - t
        p = pp(f'dask{w}'); t = time.perf_counter(); p.proc_asim(client=client, progress=False); dt = time.perf_counter() - t
        mallocs = client.run(lambda: '; '.join(sorted({e['malloc'] for e in loaded_engines()})) or '?')
        rows.append(dict(run=f'LocalCluster', workers=w, seconds=dt, img_per_s=n / dt, malloc='; '.join(sorted(set(mallocs.values()))),
                         cluster_start_s=t_start))
        client.close(); cluster.close()
    res = pd.DataFrame(rows)
    print(res.to_string(index=False, float_format=lambda v: f'{v:.2f}'))
    d = res[res.run == 'LocalCluster'].set_index('workers')
    if 1 in d.index and 2 in d.index:
        print(f'ratio, 2 workers / 1 worker: {d.loc[2, "img_per_s"] / d.loc[1, "img_per_s"]:.2f}x')


if __name__ == '__main__':
    main()
