#!/usr/bin/env python
"""Time to match hostile file names against file-name templates: tame 0.2's compilation (each `*` a lazy `.*?`) and
tame.sources.file_name_regex (each part between stars taken at its first occurrence), issue 27 item 10.

Usage: python benchmarks/templates.py [--cap 10]
Prints one row per (template, name): the name's length, seconds with the 0.2 compilation (run in a child process,
stopped after --cap seconds), seconds now (best of 5), and whether the two agree on matching.
"""
import argparse, multiprocessing as mp, re, time
from tame.sources import file_name_regex

_STRFTIME = {'Y': r'\d{4}', 'y': r'\d{2}', 'm': r'\d{2}', 'd': r'\d{2}', 'j': r'\d{3}', 'H': r'\d{2}', 'M': r'\d{2}', 'S': r'\d{2}', 'f': r'\d{1,6}'}
_FIELDS = {'loc': r'[A-Za-z0-9]+?', 'station': r'[A-Za-z0-9]+?', 'wavelength': r'\d+'}

def old_regex(pattern: str) -> re.Pattern:
    "tame 0.2's template compilation, restated: every * a lazy .*? (repeated codes as back-references)."
    out, seen, pos = [], set(), 0
    for m in re.finditer(r'%(.)|\{(\w*)\}|\*', pattern):
        out.append(re.escape(pattern[pos:m.start()])); pos = m.end()
        if m[0] == '*': out.append('.*?')
        elif m[1] == '%': out.append('%')
        elif m[1] is not None: out.append(f'(?P=_{m[1]})' if m[1] in seen else f'(?P<_{m[1]}>{_STRFTIME[m[1]]})'); seen.add(m[1])
        else:
            g = 'loc' if m[2] == 'station' else m[2]
            out.append(f'(?P={g})' if g in seen else f'(?P<{g}>{_FIELDS[m[2]]})'); seen.add(g)
    out.append(re.escape(pattern[pos:]))
    return re.compile(''.join(out))

def _old_match(pattern, name, q):
    t = time.perf_counter(); m = old_regex(pattern).fullmatch(name); q.put((time.perf_counter() - t, m is not None))

def old_time(pattern: str, name: str, cap: float):
    "(seconds, matched) with the 0.2 regex, or (None, None) when it ran past `cap` seconds."
    q = mp.Queue(); p = mp.Process(target=_old_match, args=(pattern, name, q)); p.start(); p.join(cap)
    if p.is_alive(): p.terminate(); p.join(); return None, None
    return q.get()

def new_time(pattern: str, name: str):
    "(best of 5 seconds, matched) with file_name_regex."
    rx, best = file_name_regex(pattern), float('inf')
    for _ in range(5):
        t = time.perf_counter(); m = rx.fullmatch(name); best = min(best, time.perf_counter() - t)
    return best, m is not None

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--cap', type=float, default=10.0, help='seconds after which a 0.2 match is stopped')
    a = ap.parse_args()
    cases = [('*_*_*_*_*_*_%Y%m%d_%H%M_{wavelength}.png', '_' * n) for n in (20, 40, 60, 80, 98, 255)]
    cases += [('*-*-*-*-*-*{loc}-%Y%m%dT%H%M', 'a-' * 49), ('{loc}*_*_*_*_*_%Y%m%d_%H%M', 'x' + '_9' * 48 + 'y'),
              ('*_*_*_*_*_*_%Y%m%d_%H%M_{wavelength}.png', 'a_b_c_d_e_f_20101125_1600_5577.png')]
    print(f"{'template':<44}{'name':>6}{'0.2 s':>17}{'now s':>12}  agree")
    for pattern, name in cases:
        (t_old, m_old), (t_new, m_new) = old_time(pattern, name, a.cap), new_time(pattern, name)
        old = f'>{a.cap:g} (stopped)' if t_old is None else f'{t_old:.4f}'
        agree = '?' if m_old is None else ('yes' if m_old == m_new else 'NO')
        print(f'{pattern:<44}{len(name):>6}{old:>17}{t_new:>12.6f}  {agree}')

if __name__ == '__main__': main()
