#!/usr/bin/env python
"""The archive path: `PreProcessor.proc_asim` on a synthetic month vs the feature engine's own end-to-end rate.

Usage: python benchmarks/archive_throughput.py [--hours 42] [--engine auto|torch|openvino] [--precision fp32|bf16|int8]

Writes a synthetic month (tame.synth_archive.make_asim_archive: stations NYA and LYR, 5577 and 6300 Å, one 256x256 16-bit
PNG a minute: 42 hours = 10,080 frames in 4 partitions, plus one small partition of 10 frames), then in one process
  1. the engine alone: `FeatureExtractor.extract` on 1,024 of the month's frames, after a warm-up call (img/s);
  2. `PreProcessor(...).proc_asim()` on the whole month, with no classifier (img/s over the month, start-up included,
     and per partition); the engine, its network and its loader processes are made once for all partitions.
Goal (issue 20): proc_asim >= 85 % of the engine's end-to-end rate; a small partition pays no start-up again.
int8 is calibrated on frames of another month (a folder of their own, never frames of the run).
"""
import argparse, os, tempfile, time
from pathlib import Path

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--hours', type=float, default=42); ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--engine', default='auto'); ap.add_argument('--precision', default='fp32')
    a = ap.parse_args()
    import pandas as pd, torch
    from tame.config import EngineConfig
    from tame.engine import FeatureExtractor
    from tame.preprocess import PreProcessor, index_archive
    from tame.synth_archive import make_asim_archive
    from tame.engine import machine_id
    m = machine_id()
    print(f"{m['cpu']} ({m['isa']}), {m['cores']} cores; torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"load average {os.getloadavg()[0]:.1f}; MALLOC_MMAP_MAX_={os.environ.get('MALLOC_MMAP_MAX_', 'unset')}")
    with tempfile.TemporaryDirectory() as d:
        d = Path(d); t0 = pd.Timestamp('2010-11-20 00:00')
        t = time.perf_counter()
        arch = make_asim_archive(d / 'arch', t0, t0 + pd.Timedelta(hours=a.hours), ('NYA', 'LYR'), cadence_s=60, seed=4, progress=False)
        make_asim_archive(d / 'arch', '2010-11-25 20:00', '2010-11-25 20:10', ('HOR',), cadence_s=60, seed=6,
                          wavelengths=(6300,), progress=False)         # a small partition of the same month
        cal = None
        if a.precision == 'int8':
            cal = d / 'calib'
            make_asim_archive(cal, '2010-12-03 20:00', '2010-12-03 21:00', ('NYA', 'LYR'), cadence_s=120, seed=9, progress=False)
        idx = index_archive(arch['asim'])
        print(f'synthetic month: {len(idx)} frames in {idx.groupby(["loc", "wavelength_A"]).ngroups} partitions '
              f'(written in {time.perf_counter() - t:.0f} s)')
        kw = dict(engine=a.engine, precision=a.precision)
        cal_items = None if cal is None else list(index_archive(cal)['path'])
        if a.engine == 'auto':                                   # the compiled network a long job gets: built once per machine
            FeatureExtractor(EngineConfig(engine='torch', compile=True, batch_size=a.batch, num_workers=0))
        eng = FeatureExtractor(EngineConfig(batch_size=a.batch, calibration=cal_items, **kw))
        files = list(idx.path[:1024])
        eng.extract(files[:a.batch], progress=False)
        t = time.perf_counter(); eng.extract(files, progress=False); r_eng = len(files) / (time.perf_counter() - t)
        r_runtime = eng.runtime(); eng.close(); del eng
        pp = PreProcessor(asim_path=arch['asim'], torch_path=d / 'noclf', data_path=d / 'out', batch_size=a.batch, calibration=cal, **kw)
        t = time.perf_counter(); pp.proc_asim(progress=False); dt = time.perf_counter() - t
        r_pp = len(idx) / dt
        print(f'\nengine {a.engine} {a.precision} ({r_runtime}), batch {a.batch}; no classifier; load average now {os.getloadavg()[0]:.1f}')
        print(f"{'stage':<60}{'img/s':>8}")
        print(f"{'engine alone, end to end (1,024 frames of the month)':<60}{r_eng:>8.1f}")
        print(f"{f'PreProcessor.proc_asim, the month ({len(idx)} frames, {dt:.0f} s incl. start-up)':<60}{r_pp:>8.1f}")
        for r in pp.report['tasks']:
            print(f"  partition {r['loc']} {r['wavelength_A']}: {r['n']:>5} frames {r['n'] / r['seconds']:>8.1f} img/s   "
                  f"loader pids {r['loader_pids']}, networks loaded so far {r['model_loads']}")
        print(f'\nPreProcessor / engine end to end: {r_pp / r_eng:.0%} (goal >= 85 %)')

if __name__ == '__main__': main()
