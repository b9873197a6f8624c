#!/usr/bin/env python
"""Feature-engine throughput and label agreement: every engine in one run, variants interleaved, the same images.

Usage: python benchmarks/feature_throughput.py [--images 512] [--batch 64] [--agree-per-class 170] [--rounds 3]
                                               [--variants default torch-compiled ...] [--skip-agreement] [--skip-gpu]

Each variant lives in a process of its own (the malloc setting and the OpenMP threads are per process), set up once
(conversion, calibration, compilation: `setup_s`), then the variants take turns, round after round, so that other load
on the machine hits them alike; each figure is the median of the rounds.
  * network only: img/s of the variant's network on one batch of preprocessed 16-bit frames (already in memory);
  * end to end: img/s of `FeatureExtractor.extract` from the 16-bit PNG files (decode and preprocessing in its loader
    processes; the PNGs decoded by Wuffs where pywuffs, the `fast` extra, is installed, else by Pillow: variant
    default-pillow, and the decode times printed under the table, show the difference; the loaders write each batch
    into shared memory, tame.loaders' slab: variant default-no-slab returns them as tensors, as before), each round
    a whole pass over the files, right after a call of two batches: the loaders are running, as in a long job. (Loaders stop after tame.engine.LOADER_IDLE_S unused; a job pays their start once: that first call,
    loaders stopped before it, is printed too, as `cold`; variant default-no-release forks them without giving the
    heap's free pages back first, as before, so that the caller copies the pages it shares with them);
  * e2e/net: the median over rounds of each round's end to end / network only, the two measured back to back (the
    machine's speed drifts over minutes); wait ms: how long the network waited for its loaders, a batch (the mean over
    the batches of a pass, the median over rounds);
  * the bound on e2e/net that the CPU work alone sets: the network's core-ms a frame (cores / network img/s) against
    the loaders' (one core, tame.imageprep.ImagePipeline on 256 of the files, with the engine's mallopt), if the
    network kept every core busy: N / (N + L);
  * the CPU time of the end-to-end passes themselves (Linux's /proc): this process's and its loaders' core-ms a frame
    during the pass (and this process's in the network-only run), the rate that work allows on the cores this process
    may use (cores / their sum) and as a share of network only, and the share of it the passes reached: the share of
    the cores' time that this process and its loaders used, threads spinning counted (the rest: cores idle while
    batches are handed over, while one loader finishes its half after the other, or taken by other processes); each
    a median over rounds of that round's figure;
  * logits vs fp32 eager on the timed batch: max |difference| and correlation;
  * label agreement (unless --skip-agreement): a linear SVC (standardised features, C = 1e-3) fitted on fp32 features of
    synthetic OATH-like images predicts the 6 classes of >= 1,000 other synthetic ones and of the 10 genuine OATH images
    from each variant's features; the agreement with its fp32 predictions, and TAME's protocol accuracy (10 rolled
    splits) on each variant's features. int8 variants are calibrated on a third synthetic set (never evaluated).
  * openvino-int8-acc (run only when named in --variants): NNCF's accuracy control (`quantize_with_accuracy_control`)
    with the labels of the same kind of classifier as its metric (fitted on OpenVINO fp32's features of the same fit
    set, exact within 1e-4), on a fourth synthetic set of its own (--acc-val-per-class, never evaluated): after
    int8, NNCF puts groups of operations back in fp32, those that change the most first (a try that makes the labels
    worse is undone), until at most --acc-max-drop of that set's labels differ from fp32's, or after --acc-max-tries
    tries. Its setup took 13 minutes on 2 cores (2026-12-06).
  * openvino-int8-qat (run only when named): NNCF int8 of the torch network (defaults, the same calibration set), then
    quantisation-aware fine-tuning by distillation: its weights and quantiser scales trained (Adam, --qat-lr,
    --qat-epochs, batches of 32, batch norm's running statistics frozen) so that its 1000 outputs match fp32's
    (squared difference, each output divided by its spread over the set) on a fifth synthetic set of its own
    (--qat-per-class, seed 15, never evaluated); then converted to OpenVINO. No labels are used. Its setup took 9
    minutes on 2 cores (2026-12-06).
Goals (issue 31): the default (engine='auto' after a long job) within 10 % of the best exact engine, network only; a
reduced precision >= 2.0x compiled fp32 (network only) with >= 99 % identical labels and < 0.5 points accuracy change;
end to end >= 85 % of network only at the default. The hours a season of TAME's archive (550,000 images) costs follow
from the end-to-end rates: on this machine, per core, and on a 16-core node scaled by benchmarks/scale.py's measured
efficiency (--scaling, default 0.8 per doubling when not given).
Where CUDA is present the GPU variants run too (fp32, fp16 and bf16 autocast, channels_last, compiled; end to end with
min(16, cores) loaders, which is loader-bound). The output is printed and written to
benchmarks/_results/feature_throughput_<cpu>_<vector units>_<cores>cores.md, e.g. amx, avx512bf16, avx512, avx2 (--out to change). Data: synthetic (tame.synth) unless said otherwise.
"""
import argparse, contextlib, glob, json, math, os, subprocess, sys, tempfile, time
from pathlib import Path

# every variant and its label, in the order they run
LABELS = {'plain': 'plain torch eager, NCHW, glibc malloc defaults', 'torch': "engine='torch' (eager, channels_last, mallopt)",
          'default': "default: engine='auto' after a long job",
          'default-pillow': 'the same, PNGs decoded by Pillow (without the fast extra)',
          'default-no-slab': 'the same, batches returned as tensors (before the slab)',
          'default-no-release': 'the same, loaders forked without releasing free heap (before)',
          'default-1-loader': "the same, 1 loader reading ahead (0.2's split on 2 cores)", 'torch-compiled': "engine='torch', compile=True (AOTInductor)",
          'torch-bf16': 'torch bf16 autocast, compiled', 'torch-bf16-mixed': 'torch bf16 autocast, compiled, stem + classifier fp32',
          'torch-bf16-early': 'torch bf16 autocast, compiled, stem + first 2 stages fp32',
          'bf16': "precision='bf16' (tame: compiled torch, stem + first stage fp32)",
          'torch-int8': 'torch int8 PT2E (torchao, X86Inductor), compiled', 'openvino-fp32': 'OpenVINO fp32',
          'openvino-bf16': 'OpenVINO bf16', 'openvino-int8': 'OpenVINO int8 (NNCF defaults)',
          'openvino-int8-mixed': 'OpenVINO int8 (NNCF, stem + classifier fp32, full bias correction)',
          'openvino-int8-acc': 'OpenVINO int8, NNCF accuracy control on labels (a separate set)',
          'openvino-int8-qat': 'OpenVINO int8, fine-tuned to fp32 outputs (a separate set)',
          'cuda-fp32': 'GPU fp32, channels_last', 'cuda-fp32-nchw': 'GPU fp32, NCHW', 'cuda-fp16': 'GPU fp16 autocast',
          'cuda-bf16': 'GPU bf16 autocast', 'cuda-compiled': 'GPU fp16 autocast, torch.compile'}
GPU_VARIANTS = [v for v in LABELS if v.startswith('cuda')]
OPT_IN = {'openvino-int8-acc', 'openvino-int8-qat'}   # run only when named: their setup takes minutes
CPU_VARIANTS = [v for v in LABELS if v not in GPU_VARIANTS and v not in OPT_IN]

def _pillow_png(eng): import tame.fastpng; tame.fastpng.USE_WUFFS = False                    # Pillow decodes every PNG
def _no_slab(eng): eng._loader.frame = None                                                   # batches returned as tensors
def _no_release(eng): import tame.loaders; tame.loaders._release_free_heap = lambda: None     # the free heap shared with the loaders
ENGINE_VARIANTS = {  # the variants tame's FeatureExtractor runs: (its EngineConfig options, what is changed before its loaders start)
    'torch': (dict(engine='torch'), None), 'default': ({}, None), 'default-pillow': ({}, _pillow_png), 'default-no-slab': ({}, _no_slab),
    'default-no-release': ({}, _no_release), 'default-1-loader': (dict(num_workers=1), None),
    'torch-compiled': (dict(engine='torch', compile=True), None), 'bf16': (dict(engine='torch', precision='bf16', compile=True), None)}
EXACT = {'plain', 'openvino-fp32', 'cuda-fp32', 'cuda-fp32-nchw'} | {v for v, (cfg, _) in ENGINE_VARIANTS.items() if 'precision' not in cfg}
SEASON = 550_000                                     # TAME's archive: images of one season
W = max(map(len, LABELS.values())) + 2                # the variant column: its longest label

def machine() -> dict:
    "CPU model, cores (those this process may use), load average, malloc setting, versions: printed with every table."
    from tame.engine import _cpu_flags, _cpu_name, _cpuinfo
    cpu, flags, family, model = _cpu_name(), _cpu_flags().split(), _cpuinfo('cpu family'), _cpuinfo('model\t')
    isa = ', '.join(f for f in ('avx2', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_bf16', 'amx_int8') if f in flags)
    if family and model: cpu += f' (family {family}, model {model})'
    import torch
    from importlib.metadata import version
    vs = {}
    for k in ('openvino', 'pywuffs', 'torchao'):
        try: vs[k] = version(k)
        except Exception: vs[k] = None
    return dict(cpu=cpu, isa=isa, cores=len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count(), load=os.getloadavg()[0], torch=torch.__version__, **vs,
                malloc_env=os.environ.get('MALLOC_MMAP_MAX_', 'unset'), gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)

def per_file_ms(fn, files) -> float:
    "Milliseconds of one core `fn` spends on one of the files: the median of 5 passes after one that warms the caches."
    import statistics
    ts = []
    for _ in range(6):
        t = time.perf_counter(); [fn(f) for f in files]; ts.append((time.perf_counter() - t) / len(files) * 1e3)
    return statistics.median(ts[1:])

def cpu_s(pids) -> float | None:
    "CPU seconds (user + system) that the processes have used so far (Linux's /proc); None where one cannot be read (gone, or no /proc)."
    total = 0.0
    for pid in pids:
        try: f = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()   # after the name: state, ppid, ..., utime, stime
        except (OSError, IndexError): return None
        total += (int(f[11]) + int(f[12])) / os.sysconf('SC_CLK_TCK')
    return total

def loader_ms(files) -> float:
    "Milliseconds of one core a loader spends on one frame (`ImagePipeline`: read, decode, scale, statistics, resize), with the engine's mallopt."
    from tame.backbones import get_backbone
    from tame.engine import tune_malloc
    from tame.imageprep import ImagePipeline
    tune_malloc()
    return per_file_ms(ImagePipeline(get_backbone('efficientnet_lite0')), files)

def decode_ms(files) -> dict:
    "Milliseconds to decode one of the PNG files, by Pillow and (pywuffs installed) by Wuffs as tame reads them: the median of 5 passes."
    import numpy as np
    from PIL import Image
    import tame.fastpng as fp
    from tame.imagefiles import MAX_DECODED_BYTES, MAX_FRAME_PIXELS
    ways = {'Pillow': lambda f: np.asarray(Image.open(f))}
    if fp.ImageDecoder is not None: ways['Wuffs'] = lambda f: fp.read_grey_png(f, MAX_FRAME_PIXELS, MAX_DECODED_BYTES)
    return {k: per_file_ms(fn, files) for k, fn in ways.items()}

# ---------------------------------------------------------------- a variant, in its own process
def _bf16_mixed(net, names=('conv_stem', 'classifier')):
    "bf16 autocast everywhere but these modules of the network, each in fp32 on its own: the stem convolution and the classifier, or others."
    from tame.backbones import _Fp32
    for name in names: net.model.set_submodule(name, _Fp32(net.model.get_submodule(name)))
    return net

def _nncf_mixed(model, xs):
    "NNCF int8 with the stem convolution and the last MatMul kept in fp32, full (not fast) bias correction, all calibration images."
    import nncf
    ops = [op for op in model.get_ordered_ops() if op.get_type_name() in ('Convolution', 'MatMul')]
    keep = [ops[0].get_friendly_name(), ops[-1].get_friendly_name()]
    return nncf.quantize(model.clone(), nncf.Dataset(xs), subset_size=len(xs), fast_bias_correction=False,
                         ignored_scope=nncf.IgnoredScope(names=keep, validate=False))

def _svm():
    "The classifier whose labels are compared: a linear SVC on standardised features (C = 1e-3), as in TAME."
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    return Pipeline([('scale', StandardScaler()), ('svm', SVC(kernel='linear', C=1e-3, random_state=0))])

def _nncf_accuracy_control(model, xs, w):
    "NNCF int8, then groups of operations put back in fp32, those that change labels most first, until the labels of a separate synthetic set (never evaluated) drop at most `max_drop` below fp32's, or after `max_tries` tries."
    import nncf, numpy as np, openvino as ov
    from nncf.quantization.advanced_parameters import AdvancedAccuracyRestorerParameters
    saved = w / 'acc_int8.xml'                                          # built once a run: the agreement pass reads it again
    if saved.exists(): return ov.Core().read_model(saved)
    g, y_fit, opts = np.load(w / 'acc_g.npy'), np.load(w / 'acc_y.npy'), json.loads((w / 'acc.json').read_text())
    fp32 = ov.Core().compile_model(model, 'CPU', {'INFERENCE_PRECISION_HINT': 'f32'})
    f = np.concatenate([fp32(g[k:k + 64])[0] for k in range(0, len(g), 64)])
    clf = _svm().fit(f[:len(y_fit)], y_fit)         # agreement()'s fit set and classifier, on OpenVINO fp32's features (not torch eager's)
    val = [(g[k:k + 20], clf.predict(f[k:k + 20])) for k in range(len(y_fit), len(g), 20)]   # (images, their fp32 labels)
    def share_kept(cm, items):
        same = np.concatenate([clf.predict(cm(x)[0]) == y for x, y in items]); return float(same.mean()), None
    q = nncf.quantize_with_accuracy_control(model.clone(), nncf.Dataset(xs), nncf.Dataset(val, lambda it: it[0]), share_kept,
                                            max_drop=opts['max_drop'], subset_size=len(xs),
                                            advanced_accuracy_restorer_parameters=AdvancedAccuracyRestorerParameters(max_num_iterations=opts['max_tries']))
    ov.save_model(q, str(saved), compress_to_fp16=False)                # the float layers stay fp32
    return q

def _nncf_qat(cal, w):
    "NNCF int8 of the torch network, then fine-tuned so that its outputs match fp32's on a synthetic set of its own (never evaluated), as an OpenVINO model."
    import copy, nncf, numpy as np, openvino as ov, torch
    from tame.backbones import FeatureNet, load_backbone
    from tame.engine import _OpenVinoNet
    from tame.imageprep import grey_to_input
    saved = w / 'qat_int8.xml'                                          # built once a run: the agreement pass reads it again
    if saved.exists(): return ov.Core().read_model(saved)
    g, opts = np.load(w / 'qat_g.npy'), json.loads((w / 'qat.json').read_text())
    model, spec = load_backbone(); net = FeatureNet(model).eval(); torch.manual_seed(0)
    with torch.no_grad(): t = torch.cat([net(grey_to_input(torch.from_numpy(g[k:k + 64]), spec)) for k in range(0, len(g), 64)])
    spread = t.std(0) + 1e-3                                            # each output's spread: the classifier standardises them
    q = nncf.quantize(copy.deepcopy(net), nncf.Dataset([grey_to_input(torch.from_numpy(x[None]), spec) for x in cal]), subset_size=len(cal))
    opt = torch.optim.Adam([p for p in q.parameters() if p.requires_grad], lr=opts['lr'])
    q.eval()                                                # batch norm's running statistics frozen; the quantisers still quantise
    for ep in range(opts['epochs']):
        order, total, tic = np.random.default_rng(ep).permutation(len(g)), 0.0, time.perf_counter()
        for k in range(0, len(g) - 31, 32):
            i = np.sort(order[k:k + 32])
            loss = (((q(grey_to_input(torch.from_numpy(g[i]), spec)) - t[i]) / spread) ** 2).mean()
            opt.zero_grad(); loss.backward(); opt.step(); total += loss.item()
        print(f'openvino-int8-qat: epoch {ep + 1}/{opts["epochs"]}, loss {total / (len(g) // 32):.4f}, {time.perf_counter() - tic:.0f} s', file=sys.stderr, flush=True)
    m = _OpenVinoNet(q, spec, 'fp32', torch.get_num_threads()).model   # converted as tame's engine converts (takes grey batches)
    ov.save_model(m, str(saved), compress_to_fp16=False)
    return m

def make_variant(v, w, batch):
    "(forward(g) -> np.ndarray features of a (N, S, S) grey batch, the FeatureExtractor for end to end or None, info dict)."
    import numpy as np, torch
    from tame.backbones import FeatureNet, load_backbone
    from tame.config import EngineConfig
    from tame.engine import FeatureExtractor, AUTO_LONG_JOB
    from tame.imageprep import grey_to_input
    cal = np.load(w / 'cal_g.npy')                                   # int8: OATH-like calibration images, never evaluated
    cal = np.concatenate([cal] * -(-batch // len(cal)))[:max(batch, len(cal) // batch * batch)]   # whole batches: one shape
    info = {}
    if v == 'plain':                                                 # what a user writes: NCHW, eager, no mallopt
        model, spec = load_backbone(); net = FeatureNet(model).eval()
        def fwd(g):
            with torch.inference_mode(): return net(grey_to_input(g, spec)).numpy()
        return fwd, None, dict(malloc='glibc defaults')
    if v.startswith('cuda'):
        dev = os.environ.get('TAME_BENCH_GPU_DEVICE', 'cuda')        # 'cpu' runs these code paths where no GPU is (a check only)
        eng = FeatureExtractor(EngineConfig(engine='torch', device=dev, batch_size=batch, channels_last=v != 'cuda-fp32-nchw',
                                            compile=v == 'cuda-compiled' or None, num_workers=min(16, os.cpu_count() or 1)))
        dtype = {'cuda-fp16': torch.float16, 'cuda-compiled': torch.float16, 'cuda-bf16': torch.bfloat16}.get(v)
        def fwd(g):
            x = grey_to_input(g.to(eng.device, non_blocking=True), eng.spec, eng.channels_last)
            with torch.inference_mode(), torch.autocast(eng.device.type, dtype or torch.float32, enabled=dtype is not None):
                y = eng.net(x)
            return y.float().cpu().numpy()
        eng.forward = fwd
        return fwd, eng, dict(malloc=eng.malloc, loaders=eng.num_workers, device=str(eng.device))
    if v in ENGINE_VARIANTS:
        cfg, before_loaders = ENGINE_VARIANTS[v]
        eng = FeatureExtractor(EngineConfig(batch_size=batch, **cfg))
        if before_loaders is not None: before_loaders(eng)
        if v.startswith('default'):                                         # a long job: AUTO_LONG_JOB images through forward
            g0 = torch.from_numpy(cal[:batch].copy()) if len(cal) >= batch else torch.rand(batch, 224, 224)
            while eng._seen < AUTO_LONG_JOB: eng.forward(g0)
            if eng._aot is not None and not eng.compiled: eng._aot.build(wait=True); eng.forward(g0)   # the compiled file: built once per machine
        info = dict(malloc=eng.malloc, loaders=eng.num_workers, runtime=eng.runtime())
        return eng.forward, eng, info
    if v.startswith('openvino'):
        prec = v.split('-')[1]
        eng = FeatureExtractor(EngineConfig(engine='openvino', precision=prec, batch_size=batch,
                                            calibration=json.loads((w / 'cal_files.json').read_text()) if prec == 'int8' else None))
        if v in ('openvino-int8-mixed', 'openvino-int8-acc', 'openvino-int8-qat'):
            xs = [x[None] for x in cal]
            q = (_nncf_mixed(eng._ov.model, xs) if v == 'openvino-int8-mixed' else _nncf_accuracy_control(eng._ov.model, xs, w)
                 if v == 'openvino-int8-acc' else _nncf_qat(cal, w))
            cm = eng._ov.ov.Core().compile_model(q, 'CPU', {'INFERENCE_PRECISION_HINT': 'f32',
                                                 'PERFORMANCE_HINT': 'LATENCY', 'INFERENCE_NUM_THREADS': torch.get_num_threads()})
            req = cm.create_infer_request()
        else: req = eng._request('oath')                             # int8: calibrated on the OATH-like calibration set
        fwd = lambda g: eng._ov(g, req)
        eng.forward, eng._request = fwd, lambda kind: req            # end to end on the same compiled model
        return fwd, eng, dict(malloc=eng.malloc, loaders=eng.num_workers, inference_precision=eng.info.get('inference_precision'))
    # torch's own reduced precisions: autocast bf16 + compile, or PT2E int8 (torchao) + compile
    import torch._inductor.config as icfg
    icfg.freezing = True
    eng = FeatureExtractor(EngineConfig(engine='torch', batch_size=batch))
    net = eng.net
    if v == 'torch-bf16-mixed': net = _bf16_mixed(net)
    if v == 'torch-bf16-early': net = _bf16_mixed(net, ('conv_stem', 'bn1', 'blocks.0', 'blocks.1'))   # where bf16 loses the most labels
    if v == 'torch-int8':
        from torchao.quantization.pt2e.quantize_pt2e import prepare_pt2e, convert_pt2e
        import torchao.quantization.pt2e.quantizer.x86_inductor_quantizer as xiq
        x = grey_to_input(torch.from_numpy(cal[:batch].copy()), eng.spec, True)
        q = xiq.X86InductorQuantizer(); q.set_global(xiq.get_default_x86_inductor_quantization_config())
        with torch.no_grad():
            m = prepare_pt2e(torch.export.export(net, (x,)).module(), q)
            for k in range(0, len(cal), batch): m(grey_to_input(torch.from_numpy(cal[k:k + batch].copy()), eng.spec, True))
            net = convert_pt2e(m)
    cnet = torch.compile(net)
    def fwd(g):
        n = len(g)
        if n < batch: g = torch.cat([g, g.new_zeros((batch - n,) + g.shape[1:])])
        x = grey_to_input(g, eng.spec, True)
        with torch.no_grad(), torch.autocast('cpu', torch.bfloat16, enabled=v.startswith('torch-bf16')): y = cnet(x)
        return y[:n].float().numpy()
    eng.forward = fwd
    return fwd, eng, dict(malloc=eng.malloc, loaders=eng.num_workers)

def child(v, w, batch):
    "A variant's process: set up, then answer the parent's commands (JSON lines) until told to stop."
    out = os.fdopen(os.dup(1), 'w', buffering=1); os.dup2(2, 1)  # replies on the old stdout; anything printed goes to stderr
    import numpy as np, torch
    files = json.loads((w / 'files.json').read_text())
    g = torch.from_numpy(np.load(w / 'net_g.npy'))
    t = time.perf_counter()
    try:
        fwd, eng, info = make_variant(v, w, batch)
        y = fwd(g)
        if eng is not None: eng.extract(files[:batch], progress=False)   # loaders started, first batch done
    except Exception as e:
        import traceback; traceback.print_exc()
        out.write(json.dumps(dict(error=f'{type(e).__name__}: {str(e)[:300]}')) + '\n'); return
    np.save(w / f'{v}.logits.npy', y)
    out.write(json.dumps(dict(info, setup_s=time.perf_counter() - t, threads=torch.get_num_threads())) + '\n')
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd['cmd'] == 'net':
            k, t, c = 0, time.perf_counter(), time.process_time()
            while k < 2 or time.perf_counter() - t < cmd['seconds']: fwd(g); k += 1
            out.write(json.dumps(dict(rate=k * len(g) / (time.perf_counter() - t), cpu_ms=1e3 * (time.process_time() - c) / (k * len(g)))) + '\n')
        elif cmd['cmd'] == 'e2e':
            if eng is None: out.write(json.dumps(dict(rate=None)) + '\n'); continue
            eng.close()                                                        # cold: the loaders stopped, as after LOADER_IDLE_S unused
            t = time.perf_counter(); eng.extract(files[:2 * batch], progress=False); cold = 2 * batch / (time.perf_counter() - t)
            waits, run = [], eng._loader.run
            def timed(*args, **kw):                                            # how long the network waits for each batch
                it = run(*args, **kw)
                try:
                    while True:
                        t0 = time.perf_counter()
                        try: x = next(it)
                        except StopIteration: return
                        waits.append(time.perf_counter() - t0); yield x
                finally: it.close()
            eng._loader.run = timed
            pids = list(eng._loader.processes()); c_main, c_load = time.process_time(), cpu_s(pids)   # CPU time the pass uses
            t = time.perf_counter(); eng.extract(files, progress=False)            # the loaders running, as in a long job
            rate = len(files) / (time.perf_counter() - t); del eng._loader.run
            c_end = cpu_s(pids)                                                    # None: a loader gone, or no /proc
            cpu = (dict(main_ms=1e3 * (time.process_time() - c_main) / len(files), loader_ms=1e3 * (c_end - c_load) / len(files))
                   if pids and c_load is not None and c_end is not None else {})
            eng.close()              # its loaders' copy-on-write pages freed while the other variants run (14 at once ran out of 24 GB)
            out.write(json.dumps(dict(rate=rate, cold=cold, wait_ms=1e3 * float(np.mean(waits)) if waits else None,
                                      **cpu)) + '\n')
        elif cmd['cmd'] == 'feats':
            x = np.load(cmd['path'], mmap_mode='r')
            f = np.concatenate([fwd(torch.from_numpy(np.array(x[k:k + batch]))) for k in range(0, len(x), batch)])
            np.save(cmd['out'], f); out.write(json.dumps(dict(ok=True)) + '\n')
        else: break

# ---------------------------------------------------------------- the parent
class Variant:
    "A variant's process and its pipe."
    def __init__(self, v, w, batch, log):
        self.v, self.p = v, subprocess.Popen([sys.executable, __file__, '--child', v, '--work', str(w), '--batch', str(batch)],
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)
    def ask(self, **cmd):
        if cmd: self.p.stdin.write(json.dumps(cmd) + '\n'); self.p.stdin.flush()
        line = self.p.stdout.readline()
        return json.loads(line) if line else dict(error='the process ended (see the log)')
    def stop(self):
        with contextlib.suppress(Exception): self.p.stdin.write('{"cmd": "stop"}\n'); self.p.stdin.flush()
        with contextlib.suppress(Exception): self.p.wait(60)
        if self.p.poll() is None: self.p.kill()

def grey_arrays(items, kind, path):
    "The engine's preprocessed (S, S) grey of each item, saved as one array (what every variant is fed)."
    import numpy as np
    from tame.backbones import get_backbone
    from tame.config import DEFAULT_BACKBONE
    from tame.imageprep import ImagePipeline
    pipe = ImagePipeline(get_backbone(DEFAULT_BACKBONE), kind)
    np.save(path, np.stack([pipe(it)[0].numpy() for it in items]))
    return path

def agreement(res, w, n_fit, n_ev):
    "Labels of the same fitted classifier from each variant's features: agreement with fp32 (synthetic, genuine), TAME protocol accuracy."
    import numpy as np
    from tame.protocols import tame_protocol
    y_fit, y_ev = np.load(w / 'y_fit.npy'), np.load(w / 'y_ev.npy')
    F = {v: np.load(w / f'{v}.feats.npy') for v in res if (w / f'{v}.feats.npy').exists()}
    ref = 'torch' if 'torch' in F else next((v for v in F if v in EXACT), None)   # the labels compared with: an exact fp32 variant's
    if ref is None: return None
    clf = _svm().fit(F[ref][:n_fit], y_fit)
    p0, acc0 = clf.predict(F[ref][n_fit:]), tame_protocol(F[ref][n_fit:n_fit + n_ev], y_ev, _svm()).mean6
    rows = {}
    for v, f in F.items():
        p, acc = clf.predict(f[n_fit:]), tame_protocol(f[n_fit:n_fit + n_ev], y_ev, _svm()).mean6
        rows[v] = dict(synth=(p[:n_ev] == p0[:n_ev]).mean(), genuine=int((p[n_ev:] == p0[n_ev:]).sum()), n_genuine=len(p) - n_ev,
                       acc=acc, change=100 * (acc - acc0))
    return rows, acc0, ref

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--images', type=int, default=512); ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--rounds', type=int, default=3); ap.add_argument('--seconds', type=float, default=3.0)
    ap.add_argument('--agree-per-class', type=int, default=170, help='synthetic images per class to evaluate (6 classes; 170: 1,020)')
    ap.add_argument('--variants', nargs='+'); ap.add_argument('--skip-agreement', action='store_true'); ap.add_argument('--skip-gpu', action='store_true')
    ap.add_argument('--acc-val-per-class', type=int, default=100, help='openvino-int8-acc: synthetic images per class whose labels NNCF keeps (a set of their own)')
    ap.add_argument('--acc-max-drop', type=float, default=0.005, help='openvino-int8-acc: the share of those labels that may change (0.005: 0.5 %%)')
    ap.add_argument('--acc-max-tries', type=int, default=8, help='openvino-int8-acc: at most this many tries, each putting one group of operations back in fp32 (one that makes the labels worse is undone)')
    ap.add_argument('--qat-per-class', type=int, default=200, help='openvino-int8-qat: synthetic images per class it is fine-tuned on (a set of their own)')
    ap.add_argument('--qat-epochs', type=int, default=3, help='openvino-int8-qat: passes over that set')
    ap.add_argument('--qat-lr', type=float, default=1e-5, help="openvino-int8-qat: Adam's learning rate")
    ap.add_argument('--scaling', type=float, help='parallel efficiency per doubling of cores, from benchmarks/scale.py (default 0.8)')
    ap.add_argument('--out', help='where to write the results (default benchmarks/_results/feature_throughput_<cpu>_<vector units>_<cores>cores.md)')
    ap.add_argument('--child', help=argparse.SUPPRESS); ap.add_argument('--work', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if 'openvino-int8-qat' in (a.variants or ()):
        if 6 * a.qat_per_class < 32: ap.error('--qat-per-class: at least 6 (one batch of 32 images)')
        if a.qat_epochs < 0: ap.error('--qat-epochs: 0 or more (0: int8 without fine-tuning)')
    if a.child: return child(a.child, Path(a.work), a.batch)
    import numpy as np, pandas as pd, torch
    from tame.oath import oath_table
    from tame.synth import make_oath_like
    from tame.synth_archive import make_asim_archive
    m = machine(); lines = []
    def say(s=''): print(s, flush=True); lines.append(s)
    gpu = torch.cuda.is_available() and not a.skip_gpu
    variants = a.variants or CPU_VARIANTS + (GPU_VARIANTS if gpu else [])
    with tempfile.TemporaryDirectory() as d:
        w = Path(d); t0 = pd.Timestamp('2010-11-25 18:00')       # one station, 2 wavelengths, one frame a minute
        arch = make_asim_archive(w / 'a', t0, t0 + pd.Timedelta(minutes=(a.images + 1) // 2), ('NYA',), cadence_s=60, progress=False)
        files = sorted(str(p) for p in arch['asim'].rglob('*.png'))[:a.images]
        (w / 'files.json').write_text(json.dumps(files))
        m['decode_ms'] = decode_ms(files[:256]); m['loader_ms'] = loader_ms(files[:256])
        grey_arrays(files[:a.batch], 'raw', w / 'net_g.npy')
        fit = oath_table(make_oath_like(w / 'o_fit', n_per_class=40, seed=11, progress=False))
        ev = oath_table(make_oath_like(w / 'o_ev', n_per_class=a.agree_per_class, seed=13, progress=False))
        cal = oath_table(make_oath_like(w / 'o_cal', n_per_class=10, seed=12, progress=False))
        genuine = sorted(glob.glob(str(Path(__file__).resolve().parents[1] / 'nbs/data/oath/images/**/*.png'), recursive=True))
        (w / 'cal_files.json').write_text(json.dumps([str(p) for p in cal.path]))
        grey_arrays(list(cal.path), 'oath', w / 'cal_g.npy')
        if 'openvino-int8-acc' in variants:                     # the labels NNCF's accuracy control keeps: a set never evaluated
            val = oath_table(make_oath_like(w / 'o_val', n_per_class=a.acc_val_per_class, seed=14, progress=False))
            grey_arrays(list(fit.path) + list(val.path), 'oath', w / 'acc_g.npy'); np.save(w / 'acc_y.npy', fit.class6.to_numpy())
            (w / 'acc.json').write_text(json.dumps(dict(max_drop=a.acc_max_drop, max_tries=a.acc_max_tries)))
        if 'openvino-int8-qat' in variants:                     # the images int8 is fine-tuned on: a set never evaluated
            tune = oath_table(make_oath_like(w / 'o_qat', n_per_class=a.qat_per_class, seed=15, progress=False))
            grey_arrays(list(tune.path), 'oath', w / 'qat_g.npy')
            (w / 'qat.json').write_text(json.dumps(dict(epochs=a.qat_epochs, lr=a.qat_lr)))
        if not a.skip_agreement:
            grey_arrays(list(fit.path) + list(ev.path) + genuine, 'oath', w / 'agree_g.npy')
            np.save(w / 'y_fit.npy', fit.class6.to_numpy()); np.save(w / 'y_ev.npy', ev.class6.to_numpy())
        log = open(w / 'variants.log', 'w')
        procs, res = {}, {}
        for v in variants:                                      # set up one at a time (compilations do not overlap)
            p = Variant(v, w, a.batch, log); r = p.ask()
            if 'error' in r: say(f'{v}: not run ({r["error"]})'); p.stop(); continue
            procs[v], res[v] = p, dict(r, net=[], e2e=[], cold=[], wait=[], cpu=[]); print(f'{v}: ready ({r["setup_s"]:.0f} s)', flush=True)
        for _ in range(a.rounds):                               # the variants take turns; each: network only, then end to end at once
            for v, p in procs.items():
                n = p.ask(cmd='net', seconds=a.seconds); res[v]['net'].append(n['rate'])
                e = p.ask(cmd='e2e'); res[v]['e2e'].append(e['rate']); res[v]['cold'].append(e.get('cold')); res[v]['wait'].append(e.get('wait_ms'))
                if e.get('loader_ms') is not None: res[v]['cpu'].append((e['main_ms'], e['loader_ms'], e['rate'], n['rate'], n['cpu_ms']))
        for p in procs.values(): p.stop()
        if not a.skip_agreement:        # one variant at a time, in a fresh process: eleven at once, with their loaders, ran out of 24 GB
            for v in procs:
                p = Variant(v, w, a.batch, log)
                if 'error' not in p.ask(): p.ask(cmd='feats', path=str(w / 'agree_g.npy'), out=str(w / f'{v}.feats.npy'))
                p.stop()
        log.close(); print(f'(variant logs: {w / "variants.log"} while running)')
        m['load_after'] = os.getloadavg()[0]
        ref = np.load(w / 'plain.logits.npy') if 'plain' in res else None
        for v, r in res.items():
            if r['e2e'][0]: r['ratio'] = float(np.median(np.array(r['e2e']) / np.array(r['net'])))   # each round's pair, measured back to back
            r['wait'] = float(np.median(r['wait'])) if r['wait'] and r['wait'][0] is not None else None
            r['net'] = float(np.median(r['net'])); r['e2e'] = float(np.median(r['e2e'])) if r['e2e'][0] else None
            r['cold'] = float(np.median(r['cold'])) if r['cold'] and r['cold'][0] else None
            if r['cpu']:       # each end-to-end pass's CPU work: the rate it allows on the cores this process may use, and the share reached
                main_ms, load_ms, e2e, net, net_ms = np.array(r['cpu']).T; most = m['cores'] * 1e3 / (main_ms + load_ms)
                med = lambda x: float(np.median(x))                                 # each a median over rounds of that round's figure
                r['cpu'] = dict(main_ms=med(main_ms), net_ms=med(net_ms), loader_ms=med(load_ms), most=med(most), most_net=med(most / net),
                                reached=med(e2e / most))
            y = np.load(w / f'{v}.logits.npy')
            if ref is not None: r['dy'], r['corr'] = float(np.abs(y - ref).max()), float(np.corrcoef(y.ravel(), ref.ravel())[0, 1])
        agree = agreement(res, w, len(fit), len(ev)) if not a.skip_agreement else None
    report(say, m, a, res, agree, len(files), len(ev), len(genuine))
    from tame.engine import _machine_slug
    out = Path(a.out) if a.out else Path(__file__).parent / '_results' / f"feature_throughput_{_machine_slug()}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f"# `python benchmarks/feature_throughput.py {' '.join(sys.argv[1:])}` ({time.strftime('%Y-%m-%d %H:%M')})\n\n```\n" + '\n'.join(lines) + '\n```\n')
    print(f'\nwritten: {out}')

def report(say, m, a, res, agree, n_files, n_ev, n_gen):
    "The tables and the issue's goals, in words."
    say(f"{m['cpu']} ({m['isa']}), {m['cores']} cores; load average {m['load']:.1f} at the start, {m['load_after']:.1f} at the end; "
        f"torch {m['torch']}, OpenVINO {m['openvino']}, pywuffs {m['pywuffs']}, torchao {m['torchao']}; MALLOC_MMAP_MAX_={m['malloc_env']}" + (f"; GPU {m['gpu']}" if m['gpu'] else ''))
    say(f"EfficientNet-Lite0 (packaged), 1000 logits, batch {a.batch}, 224x224; end to end: {n_files} synthetic 256x256 16-bit PNGs; "
        f"median of {a.rounds} interleaved rounds")
    say(f"{'variant':<{W}}{'network img/s':>14}{'end to end':>11}{'e2e/net':>8}{'wait ms':>8}{'setup s':>8}  {'logits vs fp32 eager':<28}malloc, loaders")
    for v, r in res.items():
        e2e = f"{r['e2e']:>11.1f}{r['ratio']:>7.1%} " + (f"{r['wait']:>8.1f}" if r.get('wait') else f"{'-':>8}") if r['e2e'] else f"{'-':>11}{'':>16}"
        close = '' if 'dy' not in r else 'exact (< 1e-4)' if r['dy'] < 1e-4 else f"max diff {r['dy']:.2g}, corr {r['corr']:.4f}"
        say(f"{LABELS.get(v, v):<{W}}{r['net']:>14.1f}{e2e}{r['setup_s']:>8.0f}  {close:<28}{r.get('malloc')}, {r.get('loaders', '-')}"
            + (f"  [{r['runtime']}]" if r.get('runtime') else ''))
    exact = {v: r['net'] for v, r in res.items() if v in EXACT and not v.startswith(('cuda', 'default'))}
    say()
    if 'default' in res:
        if exact:
            best = max(exact, key=exact.get)
            say(f"default (engine='auto', long job) network only: {res['default']['net']:.1f} img/s = {res['default']['net'] / exact[best]:.0%} of "
                f"the best exact engine ({LABELS[best]}, {exact[best]:.1f}) (goal >= 90 %)")
        if res['default']['e2e']:
            say(f"default end to end / network only: {res['default']['ratio']:.1%} (goal >= 85 %); the first call "
                f"after its loaders stopped (two batches, their start included): {res['default']['cold']:.1f} img/s")
        if res.get('default-pillow', {}).get('e2e'):
            say(f"the same with Pillow decoding the PNGs (no fast extra): {res['default-pillow']['ratio']:.1%}")
        if res.get('default-no-slab', {}).get('e2e'):
            say(f"the same with batches returned as tensors (no slab): {res['default-no-slab']['ratio']:.1%}")
        if res.get('default-no-release', {}).get('cold'):
            say(f"the first call after the loaders stopped, with them forked without giving the free heap back (before): "
                f"{res['default-no-release']['cold']:.1f} img/s (the caller then copies every page of its buffers that it writes)")
        if m.get('loader_ms'):             # if the network keeps every core busy, the loaders' work can only be added to it
            net_ms = m['cores'] * 1e3 / res['default']['net']
            say(f"the bound the CPU work alone sets on end to end / network only here: {net_ms / (net_ms + m['loader_ms']):.1%} "
                f"(the network: {net_ms:.2f} core-ms a frame = {m['cores']} cores / {res['default']['net']:.1f} img/s; the loaders: "
                f"{m['loader_ms']:.2f} ms a frame on one core, tame.imageprep.ImagePipeline, median of 5 passes over 256 files)")
        if res['default'].get('cpu'):
            c = res['default']['cpu']
            say(f"CPU time of those end-to-end passes themselves (medians over rounds): this process {c['main_ms']:.2f} core-ms a frame (the "
                f"network, and its threads while they wait; {c['net_ms']:.2f} network only), the loaders {c['loader_ms']:.2f}; on the {m['cores']} cores "
                f"this process may use, that work allows at most {c['most']:.1f} img/s ({c['most_net']:.1%} of network only), and it used {c['reached']:.1%} "
                f"of the cores' time through the passes (the rest: batches handed over, one loader finishing after the other, or cores taken by other processes)")
    if m.get('decode_ms'):
        say('decoding one 16-bit PNG frame, ms (one core, median of 5 passes over 256 files): '
            + ', '.join(f'{k} {v:.2f}' for k, v in m['decode_ms'].items()))
    base = res.get('torch-compiled', res.get('default'))
    if base and any(v not in EXACT and not v.startswith('cuda') for v in res):   # a reduced precision ran
        say(f"\nreduced precisions, network only / compiled fp32 ({base['net']:.1f} img/s), and their labels (goal >= 2.0x with >= 99 % "
            f"identical labels, < 0.5 points accuracy change)")
        if agree is None and not a.skip_agreement: say('labels: not compared, as no exact fp32 variant ran (name torch or torch-compiled too)')
        if agree:
            rows, acc0, ref = agree
            say(f"labels: linear SVC fitted on {LABELS[ref]} features of 240 synthetic OATH-like images; evaluated on {n_ev} other synthetic ones "
                f"and the {n_gen} genuine OATH images; fp32 accuracy (TAME protocol) {acc0:.4f}")
        say(f"{'variant':<{W}}{'x compiled':>11}{'labels = fp32':>14}{'genuine':>9}{'accuracy':>10}{'change':>8}  meets the goal?")
        for v, r in res.items():
            if v in EXACT or v.startswith('cuda'): continue
            g = agree[0].get(v) if agree else None
            speed = r['net'] / base['net']
            lab = f"{g['synth']:>14.2%}{g['genuine']:>6}/{g['n_genuine']:<2}{g['acc']:>10.4f}{g['change']:>+8.2f}" if g else f"{'-':>14}{'':>9}{'':>10}{'':>8}"
            ok = g is not None and speed >= 2.0 and g['synth'] >= 0.99 and abs(g['change']) < 0.5
            short = [] if ok or g is None else [w for w, bad in (('speed', speed < 2.0), ('labels', g['synth'] < 0.99), ('accuracy', abs(g['change']) >= 0.5)) if bad]
            say(f"{LABELS.get(v, v):<{W}}{speed:>10.2f}x{lab}  {'yes' if ok else 'no: ' + ', '.join(short) if short else '-'}")
    eff = a.scaling or 0.8
    say(f"\nwhat a season of TAME's archive ({SEASON:,} images) costs, end to end, hours: on this machine ({m['cores']} cores), per core, "
        f"and on a 16-core node at {eff:.0%} efficiency per doubling of cores ({'measured by benchmarks/scale.py' if a.scaling else 'assumed: run benchmarks/scale.py and pass --scaling'})")
    say(f"{'variant':<{W}}{'here':>8}{'1 core':>8}{'16 cores':>9}")
    for v, r in res.items():
        if not r['e2e']: continue
        per_core = r['e2e'] / m['cores']
        node = per_core * 16 * eff ** max(0.0, math.log2(16 / max(m['cores'], 1)))   # each doubling of cores at `eff`
        say(f"{LABELS.get(v, v):<{W}}{SEASON / r['e2e'] / 3600:>8.1f}{SEASON / per_core / 3600:>8.1f}{SEASON / node / 3600:>9.1f}")

if __name__ == '__main__': main()
