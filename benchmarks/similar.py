"""Frames like this one: exact search time and memory over 10^6 stored feature rows, and the approximate index's recall and time.

Writes a synthetic store (month files as `tame.store.write_month` writes them: time, loc, wavelength_A, file and
F features per row, in families of similar frames plus noise), then, for a number of query frames:
  * exact search (`tame.search.exact_search`: every month read in chunks, cosine, best n kept): wall time per query,
    rows per second, and the peak memory the search allocates (tracemalloc) next to the size of the features;
  * the approximate index (`tame.search.FeatureIndex`, FAISS IVF-Flat + exact re-scoring; only when faiss-cpu is
    installed): build time, its memory, and recall@10 against the exact search and time per query for several nprobe.
Timings go here, never into tests. Usage:
  python benchmarks/similar.py                      # 1,000,000 rows x 512 features (Aurora-FM's embedding), 4 months
  python benchmarks/similar.py --rows 100000 --features 1000 --queries 5 --keep /tmp/store
"""
import argparse, os, platform, resource, shutil, sys, tempfile, time, tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from tame.search import FeatureIndex, exact_search, recall_at_k
from tame.store import write_month

SETTINGS = dict(backbone='aurora_fm', layer='pooled', pretrained=True, engine=dict(name='torch', precision='fp32', calibration=None),
                preprocessing=dict(backbone='aurora_fm', recipe='aurora_fm'))


def cpu_model() -> str:
    try: return next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    except (OSError, StopIteration): return platform.processor() or 'unknown CPU'


def write_store(root: Path, rows: int, dim: int, months: int, seed: int = 0) -> np.ndarray:
    "Month files of synthetic feature rows; returns 50 query vectors drawn from the stored rows."
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(64, dim)).astype(np.float32)
    per, queries = rows // months, []
    for m in range(months):
        n = per if m < months - 1 else rows - per * (months - 1)
        fam = rng.integers(0, len(centres), n)
        X = centres[fam] + rng.normal(scale=0.8, size=(n, dim)).astype(np.float32)
        month = f'2011{m + 1:02d}'
        t = pd.date_range(f'2011-{m + 1:02d}-01', periods=n, freq='2s', tz='UTC')
        df = pd.DataFrame({'time': t, 'loc': np.where(np.arange(n) % 2, 'NYA', 'LYR'), 'wavelength_A': 5577,
                           'file': [f'/archive/{month}/f{i:07d}.png' for i in range(n)]})
        df = pd.concat([df, pd.DataFrame(X, columns=[f'feat_{k}' for k in range(dim)])], axis=1)
        write_month(df, root, 'asim', month, meta=SETTINGS)
        queries.append(X[rng.integers(0, n, 50 // months + 1)])
        del df, X
    return np.concatenate(queries)[:50]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--rows', type=int, default=1_000_000, help='feature rows in the store (default 1,000,000)')
    ap.add_argument('--features', type=int, default=512, help='features per row (default 512: Aurora-FM; Lite0 logits: 1000)')
    ap.add_argument('--months', type=int, default=4, help='month files to spread them over (default 4: a season)')
    ap.add_argument('--queries', type=int, default=5, help='query frames (default 5)')
    ap.add_argument('--chunk-mib', type=float, default=64.0, help='features read at a time by the exact search, MiB (default 64)')
    ap.add_argument('--keep', default=None, help='write (or reuse) the store in this folder instead of a temporary one')
    a = ap.parse_args(argv)
    print(f'{cpu_model()}, {os.cpu_count()} cores, load average {" ".join(f"{x:.1f}" for x in os.getloadavg())}; '
          f'numpy {np.__version__}, Python {platform.python_version()}')
    root = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix='tame-similar-'))
    try:
        t = time.perf_counter()
        if a.keep and (root / 'asim').is_dir(): queries = None; print(f'reusing the store in {root}')
        else: queries = write_store(root, a.rows, a.features, a.months)
        size = sum(f.stat().st_size for f in (root / 'asim').glob('*.hdf'))
        print(f'store: {a.rows:,} rows x {a.features} features in {a.months} month files, {size / 2**20:,.0f} MiB on disk (lzf), '
              f'{a.rows * a.features * 4 / 2**20:,.0f} MiB of float32 features; written in {time.perf_counter() - t:.1f} s')
        if queries is None:
            from tame.search import feature_months
            import h5py
            with h5py.File(feature_months(root)[0]) as f: queries = np.asarray(f['asim']['feat'][:a.queries], np.float32)
        queries = queries[:a.queries]
        exact, times = [], []
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for i, q in enumerate(queries):
            if i == 0: tracemalloc.start()
            t = time.perf_counter(); e = exact_search(root, q, SETTINGS, n=10, chunk_mib=a.chunk_mib); times.append(time.perf_counter() - t)
            if i == 0: peak = tracemalloc.get_traced_memory()[1] / 2**20; tracemalloc.stop()
            exact.append(e)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        tm = np.array(times[1:] if len(times) > 1 else times)
        print(f'exact search, n=10, chunks of {a.chunk_mib:g} MiB: {np.median(tm):.2f} s per query (median of {len(tm)}; first, '
              f'cold: {times[0]:.2f} s), {a.rows / np.median(tm) / 1e6:.2f} million rows/s; peak allocated by the search '
              f'{peak:.0f} MiB (tracemalloc, first query); process peak RSS {rss:,.0f} MiB (before the searches {rss0 / 1024:,.0f} MiB)')
        try: import faiss  # noqa: F401
        except ImportError:
            print('approximate index: faiss-cpu not installed (pip install "tame-aurora[search]"); nothing measured'); return 0
        t = time.perf_counter(); ix = FeatureIndex(root, SETTINGS, chunk_mib=a.chunk_mib)
        print(f'approximate index (FAISS IVF{ix.nlist},Flat, inner product on normalised rows, {ix.rerank}x candidates re-scored '
              f'exactly): built in {time.perf_counter() - t:.1f} s, about {ix.n_rows * a.features * 4 / 2**20:,.0f} MiB in memory')
        for nprobe in (4, 16, 64):
            ix.index.nprobe = min(nprobe, ix.nlist)
            rec, ta = [], []
            for q, e in zip(queries, exact):
                t = time.perf_counter(); r = ix.search(q, SETTINGS, n=10); ta.append(time.perf_counter() - t)
                rec.append(recall_at_k(r, e))
            print(f'  nprobe {ix.index.nprobe:>3}: recall@10 {np.mean(rec):.3f} (min {np.min(rec):.2f}) over {len(rec)} queries, '
                  f'{1000 * np.median(ta):.1f} ms per query (exact: {1000 * np.median(tm):.0f} ms)')
    finally:
        if not a.keep: shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
