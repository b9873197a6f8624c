#!/usr/bin/env python
"""Classifier files from elsewhere (issue 27, item 5): time and memory to load (or refuse) each crafted file.

Usage: python benchmarks/classifier_files.py [--before DIR] [--timeout 120] [--keep DIR]
Each file is loaded by `load_classifier` in a fresh process (its peak RSS, VmHWM, is the process's own, imports
included; the time is the load alone, then predicting 8 rows if it loaded). `--before DIR` runs the same files
through tame 0.2 too: DIR is a checkout of tame 0.2 (the folder holding tame/classifier.py), e.g.
`git worktree add /tmp/tame02 e16aa41`. Goal: every file under the size cap is loaded or refused within a few
seconds, with memory bounded by the cap (200 MiB), whatever it claims.
The crafted files are those of nbs/43_clffile.ipynb: tame's calibrated SVM (1000 features, 120 rows, six classes)
with its tree edited as an attacker would.
"""
import argparse, io, json, os, subprocess, sys, tempfile, time, zipfile
from pathlib import Path
import numpy as np

CHILD = r'''
import json, sys, time
import numpy as np
impl, path = sys.argv[1], sys.argv[2]
load = __import__('tame.clffile' if impl == 'after' else 'tame.classifier', fromlist=['load_classifier']).load_classifier
def hwm():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'): return int(line.split()[1]) / 1024
t = time.perf_counter()
try: model, meta = load(path)
except Exception as e:
    print(json.dumps(dict(load_s=time.perf_counter() - t, rss=hwm(), result='refused: ' + str(e).split(': ', 1)[-1][:90]))); sys.exit()
load_s = time.perf_counter() - t; t = time.perf_counter()
model.predict(np.zeros((8, model.n_features_in_)))
print(json.dumps(dict(load_s=load_s, predict_s=time.perf_counter() - t, rss=hwm(), result='loaded')))
'''

def crafted(folder: Path) -> dict:
    "{name: file} of the genuine file and each crafted one (zeros compress: the big payloads are small on disk)."
    from tame.backbones import get_backbone
    from tame.clffile import save_classifier
    from tame.svm import calibrated_svm
    rng = np.random.default_rng(0); y = np.repeat(np.arange(6), 20)
    X = rng.normal(size=(120, 1000)) + np.eye(6)[y] @ rng.normal(size=(6, 1000))
    model, spec = calibrated_svm(X, y, 0.01), get_backbone('efficientnet_lite0')
    genuine = save_classifier(folder / 'genuine.tame', model, dict(backbone=spec.name, layer='logits', preprocessing=spec.preprocessing()))
    with zipfile.ZipFile(genuine) as z: meta, base = z.read('meta.json'), z.read('model.skops')
    with zipfile.ZipFile(io.BytesIO(base)) as z: tree = json.loads(z.read('schema.json'))

    def skops_with(edit=None, members=None, write_schema=None, compression=zipfile.ZIP_DEFLATED):
        with zipfile.ZipFile(io.BytesIO(base)) as z: parts = {n: z.read(n) for n in z.namelist() if n != 'schema.json'}
        t = json.loads(json.dumps(tree))
        if edit: edit(t)
        b = io.BytesIO()
        with zipfile.ZipFile(b, 'w', compression) as z:
            for n, v in {**parts, **(members or {})}.items():
                with z.open(n, 'w', force_zip64=True) as f: v(f) if callable(v) else f.write(v)
            with z.open('schema.json', 'w', force_zip64=True) as f: (write_schema or (lambda f, t: f.write(json.dumps(t).encode())))(f, t)
        return b.getvalue()
    cc = lambda t: t['content']['content']['calibrated_classifiers_']
    svc = lambda t: cc(t)['content'][0]['content']['content']['estimator']['content']['content']['steps']['content'][1]['content'][1]['content']['content']
    ref = lambda n: {k: n[k] for k in ('__class__', '__module__', '__loader__', '__id__')}
    def refs(n):
        def edit(t): cc(t)['content'] = cc(t)['content'][:1] + [ref(cc(t)['content'][0])] * (n - 1)
        return edit
    def zeros(n_bytes):
        def write(f):
            np.lib.format.write_array_header_1_0(f, {'descr': '<f8', 'fortran_order': False, 'shape': (n_bytes // 8,)})
            for _ in range(n_bytes // 2**20): f.write(bytes(2**20))
        return write
    def huge_tree(f, t):
        svc(t)['notes'] = {'__class__': 'str', '__module__': 'builtins', '__loader__': 'JsonNode', 'content': 'JUNK', 'is_json': True, '__id__': 2}
        head, tail = json.dumps(t).split('"JUNK"')
        f.write(head.encode() + b'"')
        for _ in range(160): f.write(b'x' * 10**6)
        f.write(b'"' + tail.encode())
    junk = lambda t: svc(t).update(junk_={'__class__': 'ndarray', '__module__': 'numpy', '__loader__': 'NdArrayNode', 'type': 'numpy',
                                          'file': 'junk.npy', '__id__': 1})
    big = 190 * 2**20
    skops = {'one calibrator 20,000 times': skops_with(refs(20_000)), 'one calibrator 200,000 times': skops_with(refs(200_000)),
             'a 190 MiB junk array (deflated)': skops_with(junk, {'junk.npy': zeros(big)}),
             'a 190 MiB junk array (stored)': skops_with(junk, {'junk.npy': zeros(big)}, compression=zipfile.ZIP_STORED),
             'a 160 MB tree': skops_with(write_schema=huge_tree),
             'class_weight_ of 190 MiB': skops_with(lambda t: svc(t)['class_weight_'].update(file='junk.npy'), {'junk.npy': zeros(big)})}
    out = {'genuine (tame, 1000 features)': genuine}
    for i, (k, b) in enumerate(skops.items()):
        f = folder / f'crafted{i}.tame'
        with zipfile.ZipFile(f, 'w', zipfile.ZIP_DEFLATED) as z: z.writestr('model.skops', b); z.writestr('meta.json', meta)
        out[k] = f
    return out

def run(impl: str, path: Path, pythonpath: str, timeout: float) -> dict:
    env = dict(os.environ, PYTHONPATH=pythonpath)
    t = time.perf_counter()
    try: p = subprocess.run([sys.executable, '-c', CHILD, impl, str(path)], env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired: return dict(result=f'still running after {timeout:.0f} s (killed)', load_s=float('nan'), rss=float('nan'))
    lines = [l for l in p.stdout.splitlines() if l.startswith('{')]
    return json.loads(lines[-1]) if lines else dict(result=f'crashed: {p.stderr.strip().splitlines()[-1][:90]}', load_s=time.perf_counter() - t, rss=float('nan'))

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--before', default=None, help='a checkout of tame 0.2 (folder holding tame/classifier.py)')
    ap.add_argument('--timeout', type=float, default=120.0, help='seconds before a load is given up (killed)')
    ap.add_argument('--keep', default=None, help='write the crafted files here (default: a temporary folder)')
    a = ap.parse_args()
    here = str(Path(__file__).resolve().parents[1])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(a.keep or tmp); folder.mkdir(parents=True, exist_ok=True)
        files = crafted(folder)
        import sklearn, skops
        print(f'{os.cpu_count()} cores; scikit-learn {sklearn.__version__}, skops {skops.__version__}; timeout {a.timeout:.0f} s')
        print(f"{'file':<34}{'bytes':>11}  {'tame':<6}{'load s':>8}{'predict s':>10}{'peak RSS MiB':>13}  result")
        for name, f in files.items():
            for impl, pp in ([('0.2', a.before)] if a.before else []) + [('0.3', here)]:
                r = run('after' if impl == '0.3' else 'before', f, pp, a.timeout)
                pred = f"{r['predict_s']:>10.2f}" if 'predict_s' in r else f"{'':>10}"
                print(f"{name:<34}{f.stat().st_size:>11,}  {impl:<6}{r['load_s']:>8.2f}{pred}{r['rss']:>13.0f}  {r['result']}", flush=True)

if __name__ == '__main__':
    main()
