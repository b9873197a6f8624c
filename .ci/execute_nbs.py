#!/usr/bin/env python
"""Execute notebooks in place so that their outputs (figures, tables) are stored for the documentation site.

Usage: python .ci/execute_nbs.py [--with FLAG ...] [NOTEBOOK ...]   (default: every notebook in nbs/ not starting with '_')
Cells flagged with a test flag from settings.ini (e.g. `#| slow`) and `#| eval: false` cells are not run, like nbdev_test;
`--with slow` runs the cells of that flag too (their outputs are then stored: the tables a slow cell prints).
Run `nbdev_clean` afterwards.
"""
import os, sys
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell
from fastcore.xtras import working_directory
from nbdev.config import get_config
from nbdev.process import NBProcessor
from nbdev.frontmatter import FrontmatterProc

def main(paths, run=()):
    cfg = get_config()
    flags = set(cfg.tst_flags.split()) - set(run)
    nbs = [Path(p).resolve() for p in paths] or sorted(p for p in Path(cfg.nbs_path).rglob('*.ipynb')
                                                       if not any(s.startswith(('_', '.')) for s in p.relative_to(cfg.nbs_path).parts))
    os.environ.setdefault('MPLBACKEND', 'Agg')
    for fn in nbs:
        nb = NBProcessor(fn, procs=FrontmatterProc, process=True).nb   # parses directives like nbdev_test does
        def skip(cell):
            if cell.cell_type != 'code' or 'nbdev_export(' in cell.source: return True
            d = getattr(cell, 'directives_', {}) or {}
            if d.get('eval:', [''])[0].lower() == 'false' or flags & d.keys(): return True
            cell.outputs = []   # execnb stores a cell's outputs only when there are some: a cell quiet now must not keep an old run's
            return False
        sh = CaptureShell(fn)
        print(f'executing {fn.name}', flush=True)
        with working_directory(fn.parent): sh.run_all(nb, exc_stop=True, preproc=skip)
        raw = read_nb(fn)
        for c, r in zip(nb.cells, raw.cells):
            if r.cell_type == 'code': r.outputs, r.execution_count = c.get('outputs', []), c.get('execution_count')
        write_nb(raw, fn)

if __name__ == '__main__':
    args, run = sys.argv[1:], []
    while '--with' in args:
        i = args.index('--with')
        if i + 1 == len(args): sys.exit('--with needs a flag, e.g. --with slow')
        run.append(args[i + 1]); del args[i:i + 2]
    main(args, run)
