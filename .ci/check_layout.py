#!/usr/bin/env python
"""The package's floors, read from its imports (ast only: nothing is imported).

Fails when a module of `tame/` imports one on its own or a higher floor (so there can be no import circle),
when a function imports from `tame` (only the command line, `commands.py`, `archive_commands.py` and `cli.py`, and the lazy top-level API in `__init__.py` may),
when a floor that reads files loads torch or scikit-learn, when `log` is exported, when a public
definition has no docstring or a public parameter no docment, or when a notebook's export cell is over 60 lines.
Usage: python .ci/check_layout.py [--report]
"""
import ast, json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The package's layers, bottom to top. A module may import modules of its own layer or of a lower one, never
# in a circle (checked below); the layers that read files never load torch or scikit-learn.
LAYERS = {
    'base':      ['core', 'config', 'camera', 'parallel', 'synth', 'synth_archive'],          # labels, settings, cameras, parallel map, synthetic data
    'formats':   ['hdf', 'fastpng', 'imagefiles', 'groundfiles', 'sources', 'oath', 'archives', 'tame2022'],   # files others write
    'stores':    ['store', 'featurefiles', 'search'],                        # the files tame writes, and searching their features
    'models':    ['backbones', 'imageprep', 'loaders', 'engine', 'features'],           # networks and the per-frame recipe
    'learning':  ['protocols', 'benchmark', 'svm', 'clffile', 'published', 'classify', 'train', 'classifier'],   # evaluation and classifiers
    'workflows': ['preprocess', 'convert', 'disturbance', 'clouds', 'figures', 'analysis', 'similar'],   # archives to months to figures
    'cli':       ['commands', 'archive_commands', 'cli'],                    # what each command does; the parser, main and its errors
}
FLOORS = list(LAYERS.values())
LAYER_OF = {m: name for name, ms in LAYERS.items() for m in ms}
COMPAT = {'asim', 'dist', 'provider', 'legacy'}   # old paths: re-export with a DeprecationWarning, imported by nobody
NO_HEAVY = set(LAYERS['base'] + LAYERS['formats'] + LAYERS['stores'])
HEAVY = {'torch', 'torchvision', 'timm', 'sklearn'}
LOCAL_OK = {'commands', 'archive_commands', 'cli', '__init__'}   # the commands import the library lazily, so that `tame --help` answers at once
MAX_CELL = 60
floor = {m: i for i, ms in enumerate(FLOORS) for m in ms}


def tame_imports(mod: str, tree: ast.Module):
    "(imported tame module, line, inside a function?) for every import of the package in `tree`."
    funcs = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) for n in ast.walk(f)}
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level == 1: names = [base.split('.')[0]] if base else [a.name for a in node.names]
            elif base == 'tame': names = [a.name for a in node.names]
            elif base.startswith('tame.'): names = [base.split('.')[1]]
        elif isinstance(node, ast.Import):
            names = [a.name.split('.')[1] for a in node.names if a.name.startswith('tame.')]
            names += ['__init__' for a in node.names if a.name == 'tame']
        for n in names: yield n, node.lineno, id(node) in funcs


def heavy_imports(tree: ast.Module):
    for node in ast.walk(tree):
        mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ''] if isinstance(node, ast.ImportFrom) and not node.level else []
        for m in mods:
            if m.split('.')[0] in HEAVY: yield m, node.lineno


def docs_report(tree: ast.Module, src: list[str]):
    "Public definitions without a docstring; public parameters, and those without a docment (a comment on its own line)."
    nodoc, params, undoc = [], 0, []
    def params_of(fn, owner):
        nonlocal params
        a = fn.args
        for p in a.posonlyargs + a.args + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x]:
            if p.arg in ('self', 'cls') or p.arg.startswith('_'): continue
            params += 1
            if p.lineno == fn.lineno or '#' not in src[p.lineno - 1][p.col_offset:]: undoc.append(f'{owner}{fn.name}({p.arg})')
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.ClassDef)) or node.name.startswith('_'): continue
        if not ast.get_docstring(node): nodoc.append(node.name)
        if isinstance(node, ast.FunctionDef): params_of(node, ''); continue
        for m in node.body:
            if not isinstance(m, ast.FunctionDef) or (m.name.startswith('_') and m.name != '__init__'): continue
            if m.name != '__init__' and not ast.get_docstring(m): nodoc.append(f'{node.name}.{m.name}')
            params_of(m, node.name + '.')
    return nodoc, params, undoc


MAX_MODULE = 600


def one_class(lines: list[str]) -> bool:
    "Whether an export cell's code is one class definition (directives, comments and blank lines aside)."
    try: tree = ast.parse('\n'.join(l for l in lines if not l.startswith('#|')))
    except SyntaxError: return False
    body = [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    return len(body) == 1 and isinstance(body[0], ast.ClassDef)


def patched_own_classes(mod: str, tree: ast.Module) -> list[str]:
    "`@patch` on functions, and `setattr(Cls, ...)` / `Cls.name = ...` on classes, where the class is tame's own."
    own = {n.name for m in (ROOT / 'tame').glob('*.py') if m.stem != '_modidx'
           for n in ast.walk(ast.parse(m.read_text())) if isinstance(n, ast.ClassDef)}
    out = []
    for n in ast.walk(tree):
        if isinstance(n, ast.FunctionDef):
            for d in n.decorator_list:
                name = getattr(d, 'id', None) or getattr(getattr(d, 'func', None), 'id', None)
                if name == 'patch':
                    a = n.args.args[0].annotation if n.args.args else None
                    cls = getattr(a, 'id', None) or getattr(a, 'value', None)
                    if cls in own or cls is None: out.append(f'tame/{mod}.py:{n.lineno}: @patch adds {n.name} to tame\'s own class {cls}: define it in the class body')
        if isinstance(n, ast.Call) and getattr(n.func, 'id', None) == 'setattr' and n.args and getattr(n.args[0], 'id', None) in own:
            out.append(f'tame/{mod}.py:{n.lineno}: setattr on tame\'s own class {n.args[0].id}: define the method in the class body')
        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Attribute) and getattr(t.value, 'id', None) in own for t in n.targets) \
                and isinstance(n.value, (ast.Call, ast.Lambda, ast.Name)) and tree.body.count(n):
            t = next(t for t in n.targets if isinstance(t, ast.Attribute))
            out.append(f'tame/{mod}.py:{n.lineno}: {t.value.id}.{t.attr} assigned outside the class body: define it in the class')
    return out


def top_level_names(tree: ast.Module) -> set:
    "Names a module defines or imports at its top level (what `from tame.mod import name` may ask for without __getattr__)."
    out = set()
    for n in ast.walk(tree) if False else tree.body:
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): out.add(n.name)
        elif isinstance(n, ast.Assign): out |= {t.id for t in n.targets if isinstance(t, ast.Name)}
        elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name): out.add(n.target.id)
        elif isinstance(n, (ast.Import, ast.ImportFrom)): out |= {(a.asname or a.name).split('.')[0] for a in n.names}
        elif isinstance(n, ast.If):                      # e.g. `if TYPE_CHECKING:` blocks
            out |= top_level_names(ast.Module(body=n.body, type_ignores=[]))
    return out


def deprecated_uses(trees: dict) -> list[str]:
    "`from .mod import name` where `name` is not defined in mod (it would come from mod's deprecated-names __getattr__)."
    names = {m: top_level_names(t) for m, t in trees.items()}
    out = []
    for mod, tree in trees.items():
        for n in ast.walk(tree):
            if not isinstance(n, ast.ImportFrom): continue
            base = (n.module or '') if n.level == 1 else (n.module or '').removeprefix('tame.') if (n.module or '').startswith('tame.') else None
            if not base or base not in names: continue
            for a in n.names:
                if a.name != '*' and a.name not in names[base]:
                    out.append(f'tame/{mod}.py:{n.lineno}: imports {a.name} from tame.{base}, which no longer defines it '
                               f'(an old name kept for users): import it from where it lives now')
    return out


def cycles(edges: set) -> list[list[str]]:
    "Every import circle among tame's modules (one path per circle found by depth-first search)."
    graph: dict = {}
    for a, b in edges: graph.setdefault(a, set()).add(b)
    found, state = [], {}
    def visit(n, path):
        state[n] = 1
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1: found.append(path[path.index(m):] + [m])
            elif m not in state: visit(m, path + [m])
        state[n] = 2
    for n in sorted(graph):
        if n not in state: visit(n, [n])
    return found


def main(report: bool = False) -> int:
    errors, edges, totals, sizes = [], [], [0, 0], {}
    undoc_all, nodoc_all = [], []
    for path in sorted((ROOT / 'tame').glob('*.py')):
        mod = path.stem
        if mod == '_modidx': continue
        text = path.read_text()
        tree = ast.parse(text)
        src = text.splitlines()
        if mod in COMPAT:
            if not re.search(r'DeprecationWarning', text): errors.append(f'tame/{mod}.py: an old module path must warn (DeprecationWarning)')
            continue
        if mod != '__init__' and mod not in floor:
            errors.append(f'tame/{mod}.py: in no layer: add it to LAYERS in .ci/check_layout.py'); continue
        if mod != '__init__' and len(src) > MAX_MODULE:
            errors.append(f'tame/{mod}.py: {len(src)} lines (at most {MAX_MODULE}: cut the module along its own headings)')
        sizes[mod] = len(src)
        errors += patched_own_classes(mod, tree)
        for dep, line, local in tame_imports(mod, tree):
            if dep == mod: continue
            edges.append((mod, dep))
            if dep in COMPAT: errors.append(f'tame/{mod}.py:{line}: imports the old path tame.{dep}')
            if local and mod not in LOCAL_OK: errors.append(f'tame/{mod}.py:{line}: function-local import of tame.{dep} (import it at the top, from its layer or a lower one)')
            if mod in floor and dep in floor and floor[dep] > floor[mod]:
                errors.append(f'tame/{mod}.py:{line}: imports tame.{dep} of layer {LAYER_OF[dep]!r}, above {mod} (layer {LAYER_OF[mod]!r})')
            if mod in floor and dep == '__init__': errors.append(f'tame/{mod}.py:{line}: imports the package itself (import the module that defines the name)')
        if mod in NO_HEAVY:
            for m, line in heavy_imports(tree): errors.append(f'tame/{mod}.py:{line}: imports {m}; the file-format floors must not need torch or scikit-learn')
        if mod != '__init__':
            allnames = next((n.value for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], 'id', '') == '__all__'), None)
            if allnames is not None and 'log' in ast.literal_eval(allnames): errors.append(f'tame/{mod}.py: `log` is in __all__ (make it private: _log)')
            if not ast.get_docstring(tree): errors.append(f'tame/{mod}.py: no module docstring')
            nodoc, p, undoc = docs_report(tree, src)
            totals[0] += p; totals[1] += p - len(undoc); undoc_all += [f'{mod}.{u}' for u in undoc]; nodoc_all += [f'{mod}.{n}' for n in nodoc]
    init = (ROOT / 'tame' / '__init__.py').read_text()
    if not ast.get_docstring(ast.parse(init)) and '\n__doc__ = ' not in init: errors.append('tame/__init__.py: no docstring (tame.__doc__)')
    for n in nodoc_all: errors.append(f'{n}: public definition without a docstring')
    for n in undoc_all: errors.append(f'{n}: public parameter without a docment')
    # export cells
    longest = (0, '')
    for nb in sorted((ROOT / 'nbs').rglob('*.ipynb')):
        if '.ipynb_checkpoints' in nb.parts: continue
        for i, c in enumerate(json.loads(nb.read_text())['cells']):
            if c['cell_type'] != 'code': continue
            lines = ''.join(c['source']).splitlines()
            if not any(re.match(r'#\|\s*export', l) for l in lines[:3]): continue
            n = len(lines)
            if one_class(lines): continue                 # a cell holding one class may be longer: a class is read whole
            if n > longest[0]: longest = (n, f'{nb.relative_to(ROOT)} cell {i}')
            if n > MAX_CELL: errors.append(f'{nb.relative_to(ROOT)}: export cell {i} has {n} lines (at most {MAX_CELL} unless it holds one class: '
                                           'make it smaller, or move work into functions)')
    errors += [f'import circle: {" -> ".join(c)}' for c in cycles(set(edges))]
    trees = {p.stem: ast.parse(p.read_text()) for p in (ROOT / 'tame').glob('*.py') if p.stem not in ('_modidx',)}
    errors += deprecated_uses(trees)
    big = max(sizes.items(), key=lambda kv: kv[1]) if sizes else ('', 0)
    print(f'layers: {", ".join(LAYERS)}; modules: {len(sizes)}; import edges: {len(set(edges))}; largest module: {big[0]} ({big[1]} lines); '
          f'longest export cell that is not one class: {longest[0]} lines ({longest[1]}); '
          f'docments: {totals[1]} of {totals[0]} public parameters; public definitions without docstring: {len(nodoc_all)}')
    if report:
        for a, b in sorted(set(edges)): print(f'  {a} -> {b}')
    for e in errors: print('LAYOUT:', e)
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main('--report' in sys.argv))
