#!/usr/bin/env python
"""Feature-engine throughput and agreement: every engine in one run, one process per variant, the same images.

Usage: python benchmarks/feature_throughput.py [--images 512] [--batch 64] [--skip-compile] [--skip-agreement]

For each variant (plain torch eager NCHW with glibc's malloc defaults; tame's default; tame `compile=True`;
OpenVINO fp32, bf16 and int8) a fresh process measures
  * network only: img/s of the network on one batch of preprocessed frames (the engine's `forward`);
  * end to end: img/s of `FeatureExtractor.extract` from 16-bit PNG files (decode and preprocessing in its loader
    processes), after a warm-up call;
  * logits vs fp32 eager on that batch: max |difference| and correlation.
The int8 engine is calibrated on frames of another night (never the frames it is timed on). Then (unless
--skip-agreement) the classification agreement of bf16 and int8 with fp32 (see `tame.engine`, "Do reduced
precisions change the classifications?"): synthetic OATH-like images and the 10 genuine OATH images of nbs/data.
Goals (issue 20): network-only fastest reduced precision >= 2.0x tame compile fp32; end to end >= 1.8x tame's
default end to end; agreement >= 99 % and accuracy change < 0.5 points for a precision to be a default.
Where a CUDA GPU is present, two more variants run: the network on the GPU in fp32 and fp16 (network only), end to
end with min(16, cores) loader processes (the loader-bound figure); --skip-gpu leaves them out.
Data: synthetic (tame.synth_archive.make_asim_archive: 256x256 16-bit PNG frames) unless said otherwise.
"""
import argparse, json, os, subprocess, sys, tempfile, time
from pathlib import Path

VARIANTS = ['plain', 'default', 'compile', 'openvino-fp32', 'openvino-bf16', 'openvino-int8']
LABELS = {'plain': 'plain torch eager, NCHW, glibc defaults', 'default': 'tame default (channels_last + mallopt)',
          'compile': 'tame compile=True', 'openvino-fp32': 'OpenVINO fp32', 'openvino-bf16': 'OpenVINO bf16',
          'openvino-int8': 'OpenVINO int8 (NNCF)', 'cuda-fp32': 'torch on the GPU, fp32', 'cuda-fp16': 'torch on the GPU, fp16 autocast'}
GPU_VARIANTS = ['cuda-fp32', 'cuda-fp16']

def rate(fn, n_items, min_s=3.0):
    "items/s of fn() (each call handles n_items), after one warm-up call, over at least min_s."
    fn(); t = time.perf_counter(); k = 0
    while (dt := time.perf_counter() - t) < min_s or k < 2: fn(); k += 1
    return k * n_items / dt

def run_variant(v, files, cal, batch, out):
    "One variant, in this (fresh) process: network-only and end-to-end img/s, its logits on the timed batch."
    import numpy as np, torch
    from tame.backbones import FeatureNet, load_backbone
    from tame.config import EngineConfig
    from tame.engine import FeatureExtractor
    from tame.imageprep import ImagePipeline, grey_to_input
    res = dict(variant=v)
    if v == 'plain':                                      # what a user writes: no mallopt, NCHW, eager
        model, spec = load_backbone(); net = FeatureNet(model).eval()
        g = torch.stack([ImagePipeline(spec)(f)[0] for f in files[:batch]])
        x = grey_to_input(g, spec)
        with torch.inference_mode():
            res['net'] = rate(lambda: net(x), batch); y = net(x).numpy()
        res['malloc'] = 'glibc defaults'
    else:
        kw = dict(compile=True) if v == 'compile' else {}
        if v.startswith('openvino'): kw = dict(engine='openvino', precision=v.split('-')[1], calibration=cal if v.endswith('int8') else None)
        if v.startswith('cuda'): kw = dict(device='cuda', num_workers=min(16, os.cpu_count() or 1))
        t = time.perf_counter(); eng = FeatureExtractor(EngineConfig(batch_size=batch, **kw))
        if v.startswith('cuda'): eng.half = v == 'cuda-fp16'          # the engine's GPU default is fp16 autocast
        g = torch.stack([ImagePipeline(eng.spec)(f)[0] for f in files[:batch]]).to(eng.device)   # GPU: network only, no copy
        y = eng.forward(g); res['setup_s'] = time.perf_counter() - t   # conversion, calibration, compilation
        res['net'] = rate(lambda: eng.forward(g), batch)
        eng.extract(files[:batch], progress=False)             # warm-up: loader processes, first batch
        t = time.perf_counter(); eng.extract(files, progress=False); res['e2e'] = len(files) / (time.perf_counter() - t)
        res.update(malloc=eng.malloc, loaders=eng.num_workers, threads=torch.get_num_threads(),
                   inference_precision=eng.info.get('inference_precision'))
        eng.close()
    np.save(out, y)
    Path(str(out) + '.json').write_text(json.dumps(res))

def agreement(tmp):
    "Classification agreement of OpenVINO bf16/int8 with torch fp32 (synthetic OATH-like + the 10 genuine OATH images)."
    import contextlib, glob, io
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    from tame.config import EngineConfig
    from tame.engine import FeatureExtractor
    from tame.oath import oath_table
    from tame.protocols import tame_protocol
    from tame.synth import make_oath_like
    fit = oath_table(make_oath_like(tmp / 'o_fit', n_per_class=20, seed=11, progress=False))
    ev = oath_table(make_oath_like(tmp / 'o_ev', n_per_class=40, seed=13, progress=False))
    cal = oath_table(make_oath_like(tmp / 'o_cal', n_per_class=10, seed=12, progress=False))
    genuine = sorted(glob.glob(str(Path(__file__).resolve().parents[1] / 'nbs/data/oath/images/**/*.png'), recursive=True))
    svm = lambda: Pipeline([('scale', StandardScaler()), ('svm', SVC(kernel='linear', C=1e-3, random_state=0))])
    items, n, y = list(ev.path) + genuine, len(ev), ev.class6.to_numpy()
    def feats(e, it):
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            return e.extract(it, ids=[str(i) for i in range(len(it))], kind='oath', progress=False).filter(like='feat_').to_numpy()
    fp32 = FeatureExtractor(EngineConfig(num_workers=0))
    clf = svm().fit(feats(fp32, list(fit.path)), fit.class6)
    F = {'fp32': feats(fp32, items)}
    for p in ('bf16', 'int8'): F[p] = feats(FeatureExtractor(EngineConfig(engine='openvino', precision=p, calibration=list(cal.path) if p == 'int8' else None, num_workers=0)), items)
    p0, acc0 = clf.predict(F['fp32']), tame_protocol(F['fp32'][:n], y, svm()).mean6
    print(f'\nclassification agreement with torch fp32 (linear SVC fitted on fp32 features of {len(fit)} synthetic OATH-like images;'
          f'\nevaluated on {n} other synthetic ones and {len(genuine)} genuine OATH images; int8 calibrated on {len(cal)} more synthetic ones)')
    print(f"{'precision':<10}{'agree synth':>12}{'agree genuine':>14}{'TAME protocol acc6':>20}{'change (points)':>17}  default?")
    for p in ('bf16', 'int8'):
        pr, acc = clf.predict(F[p]), tame_protocol(F[p][:n], y, svm()).mean6
        a, b, d = (pr[:n] == p0[:n]).mean(), (pr[n:] == p0[n:]).mean(), 100 * (acc - acc0)
        ok = a >= 0.99 and b >= 0.99 and abs(d) < 0.5
        print(f'{p:<10}{a:>12.2%}{b:>14.0%}{acc0:>10.4f} -> {acc:.4f}{d:>+13.2f}  {"meets the goal" if ok else "no: misses the goal"}')

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--images', type=int, default=512); ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--skip-compile', action='store_true'); ap.add_argument('--skip-agreement', action='store_true')
    ap.add_argument('--skip-gpu', action='store_true')
    ap.add_argument('--variant', help=argparse.SUPPRESS); ap.add_argument('--work', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.variant:                                        # a child: one variant
        w = Path(a.work); files = json.loads((w / 'files.json').read_text()); cal = json.loads((w / 'cal.json').read_text())
        return run_variant(a.variant, files, cal, a.batch, w / f'{a.variant}.npy')
    import numpy as np, pandas as pd, torch
    from tame.synth_archive import make_asim_archive
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}; '
          f'MALLOC_MMAP_MAX_={os.environ.get("MALLOC_MMAP_MAX_", "unset")}')
    with tempfile.TemporaryDirectory() as d:
        w = Path(d); t0 = pd.Timestamp('2010-11-25 18:00')       # one station, 2 wavelengths, one frame a minute
        arch = make_asim_archive(w / 'a', t0, t0 + pd.Timedelta(minutes=(a.images + 1) // 2), ('NYA',), cadence_s=60, progress=False)
        files = sorted(str(p) for p in arch['asim'].rglob('*.png'))[:a.images]
        c0 = pd.Timestamp('2010-12-02 18:00')                     # another night: int8 calibration frames
        calib = make_asim_archive(w / 'c', c0, c0 + pd.Timedelta(minutes=64), ('NYA',), cadence_s=60, seed=3, progress=False)
        (w / 'files.json').write_text(json.dumps(files))
        (w / 'cal.json').write_text(json.dumps(sorted(str(p) for p in calib['asim'].rglob('*.png'))))
        res = {}
        gpu = torch.cuda.is_available() and not a.skip_gpu
        if gpu: print(f'GPU: {torch.cuda.get_device_name(0)}')
        for v in VARIANTS + (GPU_VARIANTS if gpu else []):
            if v == 'compile' and a.skip_compile: continue
            r = subprocess.run([sys.executable, __file__, '--variant', v, '--work', d, '--batch', str(a.batch)], capture_output=True, text=True)
            if r.returncode: print(f'{v} failed:\n{r.stderr[-2000:]}'); continue
            res[v] = json.loads((w / f'{v}.npy.json').read_text()); res[v]['y'] = np.load(w / f'{v}.npy')
        ref = res['plain']['y']
        print(f'\nEfficientNet-Lite0 (packaged), batch {a.batch}, 224x224; end to end: {len(files)} synthetic 256x256 16-bit PNGs; one process per variant')
        print(f"{'engine':<42}{'network img/s':>14}{'x plain':>8}{'end-to-end img/s':>17}{'x default':>10}  {'logits vs fp32 eager':<30}{'malloc'}")
        for v, r in res.items():
            dy = np.abs(r['y'] - ref).max(); corr = np.corrcoef(r['y'].ravel(), ref.ravel())[0, 1]
            agree = 'exact (< 1e-4)' if dy < 1e-4 else f'max diff {dy:.2g}, corr {corr:.4f}'
            e2e = f"{r['e2e']:>17.1f}{r['e2e'] / res['default']['e2e']:>9.2f}x" if 'e2e' in r else f"{'-':>17}{'':>10}"
            print(f"{LABELS[v]:<42}{r['net']:>14.1f}{r['net'] / res['plain']['net']:>7.1f}x{e2e}  {agree:<30}{r['malloc']}")
        fast = max((r['net'], v) for v, r in res.items() if v in ('openvino-bf16', 'openvino-int8'))
        best = max(r['e2e'] for v, r in res.items() if v in ('openvino-bf16', 'openvino-int8'))
        base = res.get('compile', res['default'])
        print(f"\nfastest reduced precision ({fast[1]}) network only / tame {'compile' if 'compile' in res else 'default'} fp32: "
              f"{fast[0] / base['net']:.2f}x (goal >= 2.0x)")
        print(f"best reduced-precision end to end / tame default end to end: {best / res['default']['e2e']:.2f}x (goal >= 1.8x)")
        if not a.skip_agreement: agreement(w)

if __name__ == '__main__': main()
