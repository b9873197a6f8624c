#!/usr/bin/env python
"""Check the offline documentation in a real browser: serve it on 127.0.0.1, load every page in headless Chromium,
and fail on a missing page, a page without its title or content, an error output, a broken internal link, a page
without its search box or a code cell without its copy button, or a search that does not find the page it should.
Saves screenshots of the home page and a module page.

Usage: python .ci/check_docs.py [SITE] [SCREENSHOT_DIR]   (defaults: _docs/offline, _docs/screenshots)
"""
import functools, http.server, json, re, shutil, subprocess, sys, tempfile, threading, urllib.parse, urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEARCHES = [('FieldOfView radius_frac', '02_config.html'), ('tame classify --help', '92_cli.html'), ('--pair CAM=MAG', '91_archive_commands.html')]   # (query, a page it must find)
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--no-first-run', '--disable-sync', '--disable-quic', '--hide-scrollbars']

def chromium():
    exe = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')
    if not exe: sys.exit('no Chromium found: install Debian package `chromium`')
    return exe

def run(exe, *args, timeout=60):
    with tempfile.TemporaryDirectory() as prof:
        return subprocess.run([exe, *FLAGS, f'--user-data-dir={prof}', *args], capture_output=True, text=True, timeout=timeout)

def main(site=None, shots=None):
    site = Path(site or ROOT / '_docs' / 'offline'); shots = Path(shots or ROOT / '_docs' / 'screenshots')
    pages = json.loads((site / 'pages.json').read_text())
    expected = {p.stem for p in (ROOT / 'nbs').glob('*.ipynb') if not p.name.startswith('_')}
    missing = sorted(expected - {Path(p['page']).stem for p in pages})
    problems = [f'missing page for notebook {m}' for m in missing]
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(QuietHandler, directory=str(site)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f'http://127.0.0.1:{srv.server_address[1]}/'
    exe = chromium()
    for p in pages:
        url = base + p['page']
        r = run(exe, '--dump-dom', url)
        dom = r.stdout
        if r.returncode != 0 or '<main' not in dom: problems.append(f"{p['page']}: did not load in the browser ({r.returncode})"); continue
        if p['title'] not in dom: problems.append(f"{p['page']}: title {p['title']!r} not rendered")
        if 'Traceback (most recent call last)' in dom: problems.append(f"{p['page']}: shows a traceback")
        for href in re.findall(r'<a [^>]*href="([^"#]+)(?:#[^"]*)?"', dom):
            if re.match(r'^[a-z]+:', href): continue                        # external links are not checked offline
            target = urllib.parse.urljoin(url, href)
            try: urllib.request.urlopen(target, timeout=10).close()
            except Exception as e: problems.append(f"{p['page']}: broken link {href} ({e})")
        if '<input id="search"' not in dom: problems.append(f"{p['page']}: no search box")
        code_cells, buttons = len(re.findall(r'<div [^>]*class="[^"]*\bjp-InputArea-editor\b', dom)), dom.count('class="copy"')
        blocks = len(re.findall(r'<pre', dom))                       # code cells, markdown code blocks (and outputs, which have none)
        if buttons < code_cells or (p['page'] == 'index.html' and not buttons): problems.append(f"{p['page']}: {code_cells} code cells, {buttons} copy buttons")
        print(f"ok  {p['page']:<24} {len(dom):>9} bytes of DOM, {code_cells} code cells, {buttons} copy buttons ({blocks} <pre> blocks)", flush=True)
    for q, want in SEARCHES:                    # the search box, as a reader types into it (?q= fills it on load)
        dom = run(exe, '--dump-dom', base + 'index.html?q=' + urllib.parse.quote(q)).stdout
        hits = re.findall(r'<a href="([^"]+)" class="hit">', dom)
        if want not in hits: problems.append(f'search {q!r}: {want} not among the hits {hits}')
        else: print(f'ok  search {q!r}: {len(hits)} pages, {want} among them', flush=True)
    shots.mkdir(parents=True, exist_ok=True)
    for page, size in (('index.html', '1280,1700'), ('92_cli.html', '1280,2600'), ('63_analysis.html', '1280,2600')):
        r = run(exe, f'--screenshot={shots / page.replace(".html", ".png")}', f'--window-size={size}', base + page)
        if not (shots / page.replace('.html', '.png')).exists(): problems.append(f'no screenshot of {page}: {r.stderr[-300:]}')
    srv.shutdown(); srv.server_close()
    if problems: sys.exit('documentation check failed:\n' + '\n'.join(problems))
    print(f'{len(pages)} pages loaded in Chromium, internal links resolve; screenshots in {shots}')

class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
    def handle(self):
        try: super().handle()
        except (ConnectionResetError, BrokenPipeError): pass   # the browser closed a connection early

if __name__ == '__main__': main(*sys.argv[1:])
