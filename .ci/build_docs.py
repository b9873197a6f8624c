#!/usr/bin/env python
"""Offline build of the documentation site: the same pages the GitHub workflow builds with Quarto, rendered here
without Quarto, from nbdev's processed notebooks (show_doc signatures, hidden cells removed) with nbconvert, each
page with a navigation sidebar.

Usage: python .ci/build_docs.py [OUT]   (default OUT: _docs/offline). Runs nbdev's notebook processing first
(nbdev_proc_nbs's steps, without its Quarto installer, which would `pip install -e` into the active environment).
Fails when a notebook holds an error output (the executed notebooks are the source of the figures). Every page has a
search box (an index of every page's text in search_index.js, no server needed) and a copy button on each code cell
and code block.
"""
import html, json, re, subprocess, sys
from pathlib import Path
import nbformat
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parents[1]
CSS = """body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#222;display:flex}
nav{width:230px;min-height:100vh;background:#f4f6f8;border-right:1px solid #dde;padding:18px 12px;box-sizing:border-box;position:sticky;top:0;align-self:flex-start}
nav h2{font-size:18px;margin:0 0 12px}nav a{display:block;padding:4px 6px;color:#246;text-decoration:none;border-radius:4px;font-size:14px}
nav a.here{background:#dbe6f3;font-weight:600}main{flex:1;max-width:980px;padding:20px 36px;overflow-x:auto}
h1.title{margin-bottom:4px}p.description{color:#555;font-size:17px;margin-top:0}
.jp-InputArea-editor,pre{background:#f7f7f9;border:1px solid #e3e3e8;border-radius:4px;padding:8px;overflow-x:auto;font-size:13px}
.jp-OutputArea-output pre{background:#fff;border:none}img{max-width:100%}table{border-collapse:collapse;font-size:13px}
td,th{border:1px solid #ddd;padding:3px 6px}.jp-InputPrompt,.jp-OutputPrompt{display:none}
#search{width:100%;box-sizing:border-box;padding:5px 6px;margin:0 0 6px;border:1px solid #bbc;border-radius:4px;font-size:14px}
#hits{margin:0 0 12px;font-size:13px}#hits a{font-weight:600}#hits .snip{color:#555;font-size:12px;margin:0 0 6px 6px}
.codebox{position:relative}.copy{position:absolute;top:4px;right:4px;font-size:12px;padding:2px 8px;border:1px solid #bbc;
border-radius:4px;background:#fff;color:#246;cursor:pointer;opacity:.75}.copy:hover{opacity:1}"""

# The search box and the copy buttons: plain JavaScript, no network. The index is a script (search_index.js), not JSON
# fetched at run time, so that the site also works opened from disk (file://), where browsers refuse fetch().
# `?q=words` on any page runs a search on load (what .ci/check_docs.py checks in a headless browser).
JS = """
function tameSearch(q){const hits=document.getElementById('hits');hits.innerHTML='';const words=q.toLowerCase().split(/\\s+/).filter(w=>w);
 if(!words.length||!window.TAME_SEARCH)return;const root=document.body.dataset.root;let n=0;
 for(const p of TAME_SEARCH){const t=(p.title+' '+p.text).toLowerCase();if(!words.every(w=>t.includes(w)))continue;
  const i=Math.max(0,p.text.toLowerCase().indexOf(words[0])-60);const a=document.createElement('a');a.href=root+p.page;a.textContent=p.title;
  a.className='hit';const s=document.createElement('div');s.className='snip';s.textContent=(i?'... ':'')+p.text.slice(i,i+160)+' ...';
  hits.append(a,s);if(++n>=20)break;}
 if(!n)hits.textContent='no page has all of: '+words.join(' ');}
function tameCopy(b){const t=b.parentNode.querySelector('pre').innerText;const done=()=>{b.textContent='copied';setTimeout(()=>b.textContent='copy',1500)};
 if(navigator.clipboard&&window.isSecureContext)navigator.clipboard.writeText(t).then(done);
 else{const a=document.createElement('textarea');a.value=t;document.body.append(a);a.select();document.execCommand('copy');a.remove();done();}}
document.addEventListener('DOMContentLoaded',()=>{const box=document.getElementById('search');box.addEventListener('input',()=>tameSearch(box.value));
 const q=new URLSearchParams(location.search).get('q');if(q){box.value=q;tameSearch(q);}
 for(const pre of document.querySelectorAll('.jp-InputArea-editor pre, .jp-RenderedMarkdown pre')){if(pre.parentNode.classList.contains('codebox'))continue;
  const box2=document.createElement('div');box2.className='codebox';pre.before(box2);box2.append(pre);const b=document.createElement('button');b.className='copy';
  b.textContent='copy';b.type='button';b.title='copy the code';b.onclick=()=>tameCopy(b);box2.append(b);}});
"""

def page_text(nb) -> str:
    "What the search looks in: a page's markdown, code and printed output (not figures), in one line, at most 20,000 characters."
    out = lambda c: ' '.join(o.get('text', '')[:3000] for o in c.get('outputs', []) if o.get('output_type') == 'stream')
    text = ' '.join(c.source + ' ' + out(c) for c in nb.cells if c.cell_type in ('markdown', 'code') and not c.source.startswith('#| hide'))
    text = re.sub(r'<[^>]+>|[#*`>|]+', ' ', text)
    return ' '.join(text.split())[:20000]

# nbdev_proc_nbs without its Quarto check: when Quarto is missing, nbdev "installs" it and then runs
# `pip install -e .[dev]` into whatever environment is active. Building the docs must not install anything,
# so nbdev's installer is replaced by one that fails, and the steps of nbdev's _pre_docs run one by one.
PROC = """
import inspect, fastcore.docments as fd, nbdev.quarto as q, nbdev.doclinks
def _signature(obj, *a, eval_str=False, **k):    # a parameter typed with a class the notebook defines further down (a forward
    try: return inspect.signature(obj, *a, eval_str=eval_str, **k)      # reference): shown as written instead of failing the page
    except NameError: return inspect.signature(obj, *a, **k)
fd.signature = _signature
def _refuse(*a, **k): raise SystemExit('build_docs: nbdev tried to install Quarto / pip install -e; refused')
q.install.__wrapped__ = q.install_quarto.__wrapped__ = _refuse
q.refresh_quarto_yml()
nbdev.doclinks._build_modidx()
cfg = q.get_config()
q.nbdev_sidebar.__wrapped__(path=cfg.nbs_path)
q.proc_nbs(cfg.nbs_path, n_workers=0, force=True)   # in this process: a -c script cannot be re-imported by spawned workers
"""

def frontmatter(nb):
    import yaml
    for c in nb.cells:
        if c.cell_type == 'raw' and c.source.startswith('---'):
            fm = yaml.safe_load(c.source.strip().strip('-')) or {}
            return fm.get('title'), fm.get('description', '')
    for c in nb.cells:
        if c.cell_type == 'markdown' and c.source.startswith('# '): return c.source.splitlines()[0][2:], ''
    return None, ''

def main(out=None):
    out = Path(out or ROOT / '_docs' / 'offline')
    subprocess.run([sys.executable, '-c', PROC], cwd=ROOT, check=True)
    proc = ROOT / '_proc'
    nbs = sorted(p for p in proc.rglob('*.ipynb') if not any(s.startswith(('_', '.')) for s in p.relative_to(proc).parts))
    pages, errors = [], []
    for p in nbs:
        nb = nbformat.read(p, as_version=4)
        for c in nb.cells:
            for o in c.get('outputs', []):
                if o.get('output_type') == 'error' or (o.get('name') == 'stderr' and 'Traceback' in o.get('text', '')):
                    errors.append(f'{p.name}: error output in a cell')
        title, desc = frontmatter(nb)
        name = 'index.html' if p.stem == 'index' else p.relative_to(proc).with_suffix('.html').as_posix()
        pages.append((p, nb, title or p.stem, desc, name))
    if errors: sys.exit('documentation build failed:\n' + '\n'.join(errors))
    pages.sort(key=lambda p: (p[4] != 'index.html', p[4].startswith('tutorials/'), p[4]))   # home, modules, tutorials
    from traitlets.config import Config
    cfg = Config(); cfg.TagRemovePreprocessor.enabled = True; cfg.TagRemovePreprocessor.remove_input_tags = ('remove_input',)
    exp = HTMLExporter(template_name='lab', config=cfg); exp.exclude_input_prompt = exp.exclude_output_prompt = True
    exp.embed_images = True
    out.mkdir(parents=True, exist_ok=True)
    for p, nb, title, desc, name in pages:
        nb.cells = [c for c in nb.cells if not (c.cell_type == 'raw' and c.source.startswith('---'))]
        for c in nb.cells:                                     # Quarto's `#| echo: false`: show the output, not the code
            if c.cell_type == 'code' and re.search(r'^#\|\s*echo:\s*false', c.source, re.M):
                c.source = ''; c.metadata['tags'] = ['remove_input']
        exp.exclude_input = False
        body = exp.from_notebook_node(nb)[0]
        body = re.search(r'<body[^>]*>(.*)</body>', body, re.S)[1]
        body = re.sub(r'\{target=(?:&quot;|")_blank(?:&quot;|")[^}]*\}', '', body)        # Quarto link attributes
        style = ''.join(re.findall(r'<style[^>]*>.*?</style>', exp.from_notebook_node(nbformat.v4.new_notebook())[0], re.S))
        depth = name.count('/')
        root = "../" * depth
        nav = ''.join(f'<a href="{root}{n}" class="{"here" if n == name else ""}">{html.escape(t)}</a>' for _, _, t, _, n in pages)
        search = '<input id="search" type="search" placeholder="search the docs" aria-label="search the documentation"><div id="hits"></div>'
        page = (f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)} - tame</title>{style}'
                f'<style>{CSS}</style><script src="{root}search_index.js"></script><script>{JS}</script></head>'
                f'<body data-root="{root}"><nav><h2>tame</h2>{search}{nav}</nav><main>'
                f'<h1 class="title">{html.escape(title)}</h1><p class="description">{html.escape(desc)}</p>{body}</main></body></html>')
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(page, encoding='utf-8')
    (out / 'pages.json').write_text(json.dumps([dict(page=n, title=t) for _, _, t, _, n in pages], indent=1))
    index = [dict(page=n, title=t, text=page_text(nb)) for _, nb, t, _, n in pages]
    (out / 'search_index.js').write_text('window.TAME_SEARCH = ' + json.dumps(index, ensure_ascii=False) + ';\n', encoding='utf-8')
    print(f'{len(pages)} pages in {out}')

if __name__ == '__main__': main(*sys.argv[1:])
