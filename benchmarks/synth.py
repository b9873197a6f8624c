#!/usr/bin/env python
"""Speed of the synthetic data generators (goal: 600 OATH-like images in under 10 s on 2 cores).

Usage: python benchmarks/synth.py [--n-per-class 100]
Prints one row per configuration: images, processes, seconds, images/s.
"""
import argparse, os, tempfile, time
from tame.synth import make_oath_like
from tame.synth_archive import make_asim_archive

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n-per-class', type=int, default=100)
    a = ap.parse_args()
    n = 6 * a.n_per_class
    print(f'machine: {os.cpu_count()} cores')
    print(f"{'generator':<28}{'images':>8}{'procs':>7}{'s':>8}{'img/s':>9}")
    for n_jobs in (1, None):
        with tempfile.TemporaryDirectory() as d:
            t = time.perf_counter(); make_oath_like(d, a.n_per_class, seed=0, n_jobs=n_jobs, progress=False); dt = time.perf_counter() - t
        print(f"{'make_oath_like':<28}{n:>8}{(n_jobs or os.cpu_count()):>7}{dt:>8.2f}{n / dt:>9.1f}")
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter(); r = make_asim_archive(d, '2010-11-25 18:00', '2010-11-25 20:00', ('NYA', 'LYR'), cadence_s=60, progress=False)
        dt = time.perf_counter() - t
    m = len(r['truth'])
    print(f"{'make_asim_archive (16-bit)':<28}{m:>8}{1:>7}{dt:>8.2f}{m / dt:>9.1f}")

if __name__ == '__main__': main()
