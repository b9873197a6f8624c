#!/usr/bin/env python
"""Archive preprocessing on Dask: images/s with 1 and 2 local workers, their ratio, and what a season costs.

Usage: python benchmarks/scale.py [--hours 12] [--stations NYA LYR] [--cadence-s 180] [--batch-size 64] [--workers 1 2]
                                  [--engine auto|torch|openvino] [--precision fp32|bf16|int8]
A synthetic archive (tame.synth) of --stations x --hours at --cadence-s, one wavelength, is processed with the embedded
EfficientNet-Lite0 and a classifier fitted on a small synthetic OATH-like set. Each run writes into a fresh folder.
Workers are LocalCluster processes with one thread each (Dask sets OMP_NUM_THREADS=1 in them); the serial run uses this
process with torch's default threads and its loader processes. Times include the network load on each worker (once per
worker) but not the cluster start and the workers' imports of torch and tame, printed separately (cluster_start_s).
With --engine auto (the default) the network compiled for this CPU is built first (once per machine, kept in tame's data
directory), so every run uses the runtime a long job gets; the runtime and malloc setting of each run are printed.
From the 1-worker rate (one core) and the efficiency of going from 1 to 2 workers, the hours for TAME's season of
550,000 images: serial on this machine, per core (1 worker), and on a 16-core node (16 one-thread workers, the measured
efficiency applied to each doubling: an extrapolation, said as such). Written to benchmarks/_results/scale_<cpu>_<vector units>_<cores>cores.md too.
"""
import argparse, math, os, sys, tempfile, time
from pathlib import Path

SEASON = 550_000

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--hours', type=float, default=12); ap.add_argument('--stations', nargs='+', default=['NYA', 'LYR'])
    ap.add_argument('--cadence-s', type=int, default=180); ap.add_argument('--batch-size', type=int, default=64)
    ap.add_argument('--workers', type=int, nargs='+', default=[1, 2])
    ap.add_argument('--engine', default='auto'); ap.add_argument('--precision', default='fp32')
    ap.add_argument('--out', help='results file (default benchmarks/_results/scale_<cpu>_<vector units>_<cores>cores.md)')
    a = ap.parse_args()
    import pandas as pd, torch
    from dask.distributed import Client, LocalCluster
    from tame.config import EngineConfig
    from tame.engine import FeatureExtractor, _cpu_name, _machine_slug
    from tame.preprocess import PreProcessor, loaded_engines
    from tame.classify import AsimClassifier
    from tame.synth import make_oath_like
    from tame.synth_archive import make_asim_archive
    lines = []
    def say(s=''): print(s, flush=True); lines.append(s)

    tmp = Path(tempfile.mkdtemp(prefix='tame-scale-'))
    AsimClassifier.from_oath(make_oath_like(tmp / 'oath', 10, seed=0, progress=False), torch_path=tmp / 'torch', C=0.01, progress=False)
    start = pd.Timestamp('2010-11-30 18:00')
    arch = make_asim_archive(tmp / 'arch', start, start + pd.Timedelta(hours=a.hours), tuple(a.stations), cadence_s=a.cadence_s,
                             seed=1, wavelengths=(5577,), progress=False)
    n = sum(1 for _ in (tmp / 'arch' / 'asim').rglob('*.png'))
    months = sorted({p.name.split('_')[1][:6] for p in (tmp / 'arch' / 'asim').rglob('*.png')})
    if a.engine == 'auto':                                      # the compiled network a long job gets, built once for this machine
        t = time.perf_counter(); FeatureExtractor(EngineConfig(engine='torch', compile=True, batch_size=a.batch_size, num_workers=0))
        print(f'compiled network ready ({time.perf_counter() - t:.0f} s; 0 s when it was built before)')
    say(f'{_cpu_name()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; torch {torch.__version__}; '
        f'MALLOC_MMAP_MAX_={os.environ.get("MALLOC_MMAP_MAX_", "unset")}; engine {a.engine} {a.precision}, batch {a.batch_size}')
    say(f'archive: {n} images, {len(a.stations)} stations x {len(months)} months = {len(a.stations) * len(months)} partitions')

    def pp(out): return PreProcessor(asim_path=arch['asim'], torch_path=tmp / 'torch', data_path=tmp / out, batch_size=a.batch_size,
                                     engine=a.engine, precision=a.precision)
    def what(infos): return '; '.join(sorted({f"{e.get('runtime', '?')}, {e['malloc']}" for e in infos})) or '?'
    rows = []
    p = pp('serial'); t = time.perf_counter(); p.proc_asim(progress=False); dt = time.perf_counter() - t
    rows.append(dict(run='serial (no Dask)', workers='-', seconds=dt, img_per_s=n / dt, engine=what(loaded_engines()), cluster_start_s=float('nan')))
    for w in a.workers:
        t = time.perf_counter()
        cluster = LocalCluster(n_workers=w, threads_per_worker=1, processes=True, dashboard_address=':0')
        client = Client(cluster)
        client.run(lambda: __import__('tame.preprocess'))            # import torch and tame on every worker before timing
        t_start = time.perf_counter() - t
        p = pp(f'dask{w}'); t = time.perf_counter(); p.proc_asim(client=client, progress=False); dt = time.perf_counter() - t
        infos = [e for v in client.run(loaded_engines).values() for e in v]
        rows.append(dict(run='LocalCluster', workers=w, seconds=dt, img_per_s=n / dt, engine=what(infos), cluster_start_s=t_start))
        client.close(); cluster.close()
    res = pd.DataFrame(rows)
    say(res.to_string(index=False, float_format=lambda v: f'{v:.2f}'))
    say(f'load average at the end {os.getloadavg()[0]:.1f}')
    d = res[res.run == 'LocalCluster'].set_index('workers')
    if 1 in d.index and 2 in d.index:
        r1, r2 = d.loc[1, 'img_per_s'], d.loc[2, 'img_per_s']
        eff = r2 / r1 / 2
        node = r1 * 16 * eff ** math.log2(16)
        say(f'ratio, 2 workers / 1 worker: {r2 / r1:.2f}x, i.e. {eff:.0%} efficiency per doubling of workers '
            f'(pass --scaling {eff:.2f} to benchmarks/feature_throughput.py)')
        say(f"TAME's season of {SEASON:,} images: {SEASON / res.img_per_s.max() / 3600:.1f} h on this machine (its best run), "
            f"{SEASON / r1 / 3600:.1f} h on one core (1 worker); on a 16-core node (16 one-thread workers) about "
            f"{SEASON / node / 3600:.1f} h, extrapolated at {eff:.0%} per doubling from this machine's 1 -> 2 workers")
    out = Path(a.out) if a.out else Path(__file__).parent / '_results' / f"scale_{_machine_slug()}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f"# `python benchmarks/scale.py {' '.join(sys.argv[1:])}` ({time.strftime('%Y-%m-%d %H:%M')})\n\n```\n" + '\n'.join(lines) + '\n```\n')
    print(f'written: {out}')


if __name__ == '__main__':
    main()
