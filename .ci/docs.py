"""The course's website, built offline: nbdev's processed notebooks rendered by MkDocs.

nbdev renders its docs with Quarto, which cannot be installed here (GitHub's runners can: see
.github/workflows/deploy.yaml). This script keeps nbdev's part of the pipeline as it is, its
processed notebooks (hidden cells removed, exported code replaced by its `show_doc` entries,
which nbdev executes, directives dropped), and hands them to MkDocs (Material theme,
mkdocs-jupyter) instead of Quarto.

    python .ci/docs.py build [--force]   # nbdev's processors -> _proc/, MkDocs -> _site/
    python .ci/docs.py check             # headless Chromium over every page of _site/
    python .ci/docs.py serve [--port N]  # serve _site/ at http://127.0.0.1:N/ (default 8000)

The site is static: any web server serves _site/ (`serve` is one). Opened as a file it reads
the same, but Material's search needs it served over HTTP.
The pages are index.ipynb and the chapters in reading order; the test notebooks in nbs/tests/
are left out (they are not lessons and are not in the reading order; CI runs them).
Folders written (all git-ignored): _proc/ (nbdev's cache), _mkdocs/ (MkDocs' input), _site/.
"""
import argparse, ast, functools, json, os, re, shutil, subprocess, sys, time, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS, PROC, STAGE, SITE = ROOT/"nbs", ROOT/"_proc", ROOT/"_mkdocs", ROOT/"_site"
MANIFEST = "docs-manifest.json"        # written into the site by `build`, read by `check`
SCREENSHOT = "screenshot.png"          # written into the site by `check`
SCREENSHOT_PAGE = "model.html"         # a chapter with show_doc entries, @patch methods and code
# Folders under nbs/ that hold what notebooks write (run folders, prepared data), not pages.
SKIP_FOLDERS = r"^([_.].*|runs|data|tmp)$"


def pages() -> list[Path]:
    "The site's notebooks in reading order: index.ipynb, then the numbered chapters."
    return [NBS/"index.ipynb"] + sorted(NBS.glob("[0-9]*.ipynb"))


# --- 1. nbdev's processing --------------------------------------------------------------------

def _test_flags() -> set[str]:
    from nbdev.config import get_config
    return set(str(get_config().get("tst_flags", "")).split())


def cells_nbdev_would_run() -> tuple[list[str], list[str]]:
    """Cells that nbdev's docs processor executes though they hold more than imports: (flagged, others).

    nbdev executes every cell that holds an import (so `show_doc` can resolve names) and does
    not know the test flags: a flagged cell that mixes imports with other code would train a
    model, need a GPU or the network in the middle of the docs build (an error). An unflagged one
    runs out of context: it works or fails on its own (reported by nbdev). nbdev's documented
    fix for both is to give imports a cell of their own. This uses nbdev's own test for "will be
    executed".
    """
    from fastcore.nbio import read_nb
    from nbdev.process import NBProcessor
    from nbdev.processors import _do_eval, _show_docs, _want_doc
    flags, bad, mixed = _test_flags(), [], []
    for path in pages():
        nb = read_nb(path)
        NBProcessor(nb=nb, procs=[], rm_directives=False)      # parses each cell's directives
        cells = [c for c in nb.cells if c.cell_type == "code"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")                    # nbdev's "imports and other code" warning
            executed = [c for c in cells if _do_eval(c)]
        if not (any(_want_doc(c) for c in cells) or any(_show_docs(c.parsed_() or []) for c in cells)):
            continue                                           # nbdev executes nothing in a notebook without docs
        for c in executed:
            if c.directives_.keys() & {"export", "exports", "exporti", "exec_doc"} or _show_docs(c.parsed_()): continue
            if all(isinstance(t, (ast.Import, ast.ImportFrom)) for t in c.parsed_()): continue
            if flags & set(c.directives_):
                bad.append(f"{path.relative_to(ROOT)} cell {c.get('id')}: flagged {sorted(flags & set(c.directives_))} "
                           f"but nbdev's docs processor runs it (it imports): move its imports into a cell of their own")
            else: mixed.append(f"{path.stem} {c.get('id')}")
    return bad, mixed


def nbdev_process(force: bool):
    """nbdev's processed notebooks in _proc/: what `nbdev-proc-nbs` does, less its Quarto steps.

    `nbdev-proc-nbs` also writes nbs/_quarto.yml, nbdev.yml and sidebar.yml (Quarto's config) and
    tries to install Quarto (sudo + curl); neither is needed here. Only the site's notebooks are
    processed, and the run and data folders under nbs/ are not copied.
    """
    from nbdev.serve import proc_nbs
    names = "|".join(re.escape(p.name) for p in pages())
    os.chdir(ROOT)                      # as nbdev-proc-nbs: cells it executes run from the project root
    os.environ["PYTHONWARNINGS"] = "ignore"    # nbdev's workers: `build` summarises its warnings in one line
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try: proc_nbs(str(NBS), force=force, file_re=f"^({names})$", skip_folder_re=SKIP_FOLDERS)
        except Exception as e:
            sys.exit(f"docs: {e}\n\nnbdev's docs processor runs only the cells that export, import or call show_doc, "
                     "so a cell that mixes imports with other code runs without the cells before it: "
                     "move that cell's imports into a cell of their own.")


# --- 2. From nbdev's notebooks to MkDocs' input -------------------------------------------------
# nbdev writes its notebooks for Quarto: front matter in a raw cell, Quarto cell options
# (`#| echo: false`), Pandoc link attributes, and links to /PAGE.html#anchor. Each is turned
# into what nbconvert (which mkdocs-jupyter uses) renders.

HIDE_INPUT = "docs-hide-input"                       # cell tag; mkdocs-jupyter removes the input
_DIRECTIVE = re.compile(r"^#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$")
_PANDOC_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)\{([^}]*)\}")     # [text](url){attrs}


@functools.cache
def _site_link() -> re.Pattern:
    "nbdev's links to a page of the site: ](/model.html#gpt.save_hf), or under the Documentation URL."
    from nbdev.config import get_config
    cfg = get_config()
    url = re.escape(cfg.doc_host + cfg.doc_baseurl.rstrip("/") + "/") if cfg.doc_host else "/"
    return re.compile(rf"\]\((?:{url}|/)([\w/.-]+\.html)(#[^)\s]*)?\)")


def _text(x): return "".join(x) if isinstance(x, list) else (x or "")


def _markdown(md: str, anchors: dict[str, set[str]]) -> str:
    """Quarto markdown to nbconvert markdown: Pandoc link attributes to HTML, site links made relative.

    nbdev links a name to its page's anchor (`/model.html#gpt.save_hf`, or under the project's
    Documentation URL); the link becomes relative (the site works from any folder) and the anchor the
    id mkdocs-jupyter gives the show_doc heading. A method documented only as part of its class
    (`GPT.forward`) has no heading of its own: its link goes to the class's.
    """
    from mkdocs_jupyter.utils import slugify                # the ids mkdocs-jupyter gives headings
    md = _PANDOC_LINK.sub(lambda m: f'<a href="{m[2]}" {m[3]}>{m[1]}</a>', md)
    def link(m):
        page, name = m[1], (m[2] or "#")[1:]
        if page not in anchors: return m[0]                  # left as it is: `check` reports it
        frag = slugify(name)
        if name and frag not in anchors[page] and slugify(name.split(".")[0]) in anchors[page]:
            frag = slugify(name.split(".")[0])
        return f"]({page}{'#' + frag if frag else ''})"
    return _site_link().sub(link, md)


def _show_doc_name(source: str) -> str | None:
    "The name a show_doc cell documents (after its `#|` options), else None."
    m = re.fullmatch(r"show_doc\((.+)\)", "\n".join(l for l in source.splitlines() if not l.startswith("#|")).strip())
    return m[1] if m else None


def _cell_options(cell) -> dict:
    "Quarto's `#| key: value` options of a code cell, removed from its source."
    lines, opts = _text(cell["source"]).splitlines(), {}
    while lines and (m := _DIRECTIVE.match(lines[0])):
        opts[m[1]] = m[2].lower(); lines.pop(0)
    cell["source"] = "\n".join(lines)
    return opts


def stage_notebook(src: Path, anchors: dict[str, set[str]]) -> tuple[dict, dict]:
    "One of nbdev's processed notebooks made ready for mkdocs-jupyter, and what the page documents."
    import yaml
    nb = json.loads(src.read_text())
    from nbdev.config import nbpath2html
    cells, info = [], {"title": src.stem, "description": "", "page": nbpath2html(src).name, "show_doc": []}
    for cell in nb["cells"]:
        kind, source = cell["cell_type"], _text(cell.get("source"))
        cell["metadata"] = {k: v for k, v in cell.get("metadata", {}).items() if k == "tags"}  # execnb's timings are not valid nbformat
        if kind == "raw" and source.startswith("---"):        # nbdev's front matter: the page's H1 and summary
            fm = yaml.safe_load(source.strip().strip("-")) or {}
            info.update(title=fm.get("title", src.stem), description=fm.get("description", ""),
                        page=fm.get("output-file", info["page"]))
            head = f"# {info['title']}\n\n" + (f"> {info['description']}\n" if info["description"] else "")
            cells.append({"cell_type": "markdown", "metadata": {}, "source": head})
            continue
        if kind == "markdown":
            if not source.strip() or source.strip().startswith("<!-- WARNING: THIS FILE WAS AUTOGENERATED"): continue
            cell["source"] = _markdown(source, anchors)
        elif kind == "code":
            opts = _cell_options(cell)
            if opts.get("include") == "false": continue
            if opts.get("output") == "false": cell["outputs"] = []
            if opts.get("echo") == "false" or not cell["source"].strip():
                cell.setdefault("metadata", {}).setdefault("tags", []).append(HIDE_INPUT)
            if name := _show_doc_name(cell["source"]):
                if not any("text/markdown" in o.get("data", {}) for o in cell.get("outputs", [])):
                    raise SystemExit(f"{src.name}: show_doc({name}) has no output: nbdev did not execute it")
                info["show_doc"].append(name)
            for o in cell.get("outputs", []):
                if "text/markdown" in o.get("data", {}):
                    o["data"]["text/markdown"] = _markdown(_text(o["data"]["text/markdown"]), anchors)
        cells.append(cell)
    nb["cells"] = cells
    widgets = nb["metadata"].get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    if not widgets.get("state"): nb["metadata"].pop("widgets", None)    # else nbconvert adds CDN scripts
    return nb, info


def mkdocs_config(nav: list, description: str) -> dict:
    "MkDocs' configuration: Material theme with nothing fetched from the internet, notebooks as pages."
    return {
        "site_name": "gpt2_nb",
        "site_description": description,
        "docs_dir": "docs",
        "site_dir": str(SITE),
        "use_directory_urls": False,       # PAGE.html, as nbdev's links name them
        "theme": {"name": "material", "font": False,          # no Google Fonts: system fonts
                  "features": ["navigation.footer", "navigation.top", "search.highlight", "content.code.copy"],
                  "palette": {"primary": "indigo"}},
        "plugins": [
            "search",
            {"mkdocs-jupyter": {
                "execute": False,          # nbdev's outputs as committed (and show_doc's, just computed)
                "include_source": False,
                "include_requirejs": False,
                "no_prompt": True,         # no In [n]: / Out[n]: (execution counts are cleaned away)
                "ignore_h1_titles": True,  # the nav's titles
                "remove_tag_config": {"remove_input_tags": [HIDE_INPUT]},
                "cache": False,
            }},
        ],
        "hooks": [str(Path(__file__).resolve())],   # on_page_content below: the pages' tables of contents
        "nav": nav,
    }


def on_page_content(html, page, **kw):
    """MkDocs hook: each page's table of contents from the headings as rendered (h2, h3).

    mkdocs-jupyter builds it from the markdown cells with Python-Markdown, whose anchors differ
    from nbconvert's when a heading holds inline code, and it leaves out the show_doc entries.
    """
    from mkdocs.structure.toc import get_toc
    tokens = []
    for level, hid, inner in re.findall(r'<h([23]) id="([^"]+)"[^>]*>(.*?)</h\1>', html, flags=re.S):
        name = re.sub(r"<[^>]+>", "", inner).replace("¶", "").strip()
        token = {"level": int(level), "id": hid, "name": name, "children": []}
        if level == "3" and tokens: tokens[-1]["children"].append(token)
        else: tokens.append(token)
    page.toc = get_toc(tokens)
    return html


def stage() -> list[dict]:
    "Write _mkdocs/: mkdocs.yml and docs/ (the staged notebooks and the files they show)."
    import yaml
    shutil.rmtree(STAGE, ignore_errors=True)
    docs = STAGE/"docs"; docs.mkdir(parents=True)
    # Images and other files the notebooks show; not the test notebooks' folder, nor the run and
    # data folders a plain `nbdev-proc-nbs` copies in.
    for f in PROC.rglob("*"):
        rel = f.relative_to(PROC)
        if rel.parts[0] == "tests" or any(re.match(SKIP_FOLDERS, d) for d in rel.parts[:-1]): continue
        if f.is_file() and f.suffix != ".ipynb" and not rel.name.startswith("_"):
            (docs/rel).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(f, docs/rel)
    from nbdev.config import nbpath2html                     # nbdev's page name: 06_model.ipynb -> model.html
    from mkdocs_jupyter.utils import slugify
    anchors = {}                                             # page -> anchors of its show_doc entries
    for path in pages():
        cells = json.loads((PROC/path.name).read_text())["cells"]
        names = [_show_doc_name(_text(c.get("source"))) for c in cells if c["cell_type"] == "code"]
        anchors[nbpath2html(path).name] = {slugify(n) for n in names if n}
    infos, nav = [], []
    for path in pages():
        nb, info = stage_notebook(PROC/path.name, anchors)
        page = info["page"]
        if page not in anchors: raise SystemExit(f"{path.name}: unexpected output file {page}")
        (docs/page).with_suffix(".ipynb").write_text(json.dumps(nb, indent=1, ensure_ascii=False))
        label = "Home" if path.stem == "index" else f"{path.stem.split('_')[0]} · {info['title']}"
        nav.append({label: str(Path(page).with_suffix(".ipynb"))})
        infos.append({"notebook": str(path.relative_to(ROOT)), **info})
    cfg = mkdocs_config(nav, infos[0]["description"])
    (STAGE/"mkdocs.yml").write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True))
    return infos


def build(force: bool = False):
    t0 = time.time()
    bad, mixed = cells_nbdev_would_run()
    if bad: sys.exit("docs: " + "\n      ".join(bad))
    if mixed: print(f"docs: {len(mixed)} cells mix imports with other code, so nbdev runs them for the docs "
                    f"(harmless while they pass): {', '.join(mixed)}")
    nbdev_process(force)
    t1 = time.time()
    infos = stage()
    if subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-f", str(STAGE/"mkdocs.yml")],
                      cwd=STAGE, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}).returncode:
        sys.exit("docs: mkdocs build failed (above)")
    (SITE/MANIFEST).write_text(json.dumps(infos, indent=1))
    n_docs = sum(len(i["show_doc"]) for i in infos)
    print(f"docs: {len(infos)} pages, {n_docs} show_doc entries -> {SITE.relative_to(ROOT)}/index.html "
          f"(nbdev {t1 - t0:.0f} s, MkDocs {time.time() - t1:.0f} s)")


# --- 3. The check: every page in headless Chromium ---------------------------------------------

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def find_browser() -> str:
    "Debian's chromium (CI installs it), else another Chromium-family browser on PATH ($CHROMIUM first)."
    for name in [os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]:
        if name and (p := shutil.which(name)): return p
    sys.exit("docs check: no Chromium found: `apt-get install -y chromium` (or set CHROMIUM=/path/to/chrome)")


# In the page: headings (their ids and texts), images that failed, and every link's resolved URL.
PAGE_FACTS = """async () => {
  await Promise.all([...document.images].map(i => i.decode().catch(() => null)));
  const main = document.querySelector('article') || document.body;
  return {
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    headings: [...main.querySelectorAll('h1, h2, h3, h4')].map(h => h.textContent.replace('¶', '').trim()),
    images: [...document.images].map(i => ({src: i.src.slice(0, 80), ok: i.complete && i.naturalWidth > 0})),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    title: document.title,
  };
}"""


def _server(port: int):
    "An HTTP server for _site/ on 127.0.0.1 (quiet: the check reports what fails)."
    import http.server
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw): super().__init__(*a, directory=str(SITE), **kw)
        def log_message(self, *a): pass
    return http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)


def check():
    import threading
    from urllib.parse import urlsplit, unquote
    from playwright.sync_api import sync_playwright
    if not (SITE/MANIFEST).exists(): sys.exit("docs check: no site: run `python .ci/docs.py build` first")
    infos = json.loads((SITE/MANIFEST).read_text())
    t0, problems, facts = time.time(), [], {}
    server = _server(0)                                       # a free port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_browser(), args=CHROMIUM_ARGS)   # a fresh profile
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        # Nothing may leave the machine: any request not to the local server is refused and reported.
        def route(r):
            if r.request.url.startswith((base, "data:", "blob:")): return r.continue_()
            problems.append(f"network request to {r.request.url}"); r.abort()
        context.route("**/*", route)
        page = context.new_page()
        errors = []
        page.on("console", lambda m: m.type == "error" and errors.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: errors.append(f"failed to load {r.url}: {r.failure}"))
        for info in infos:                     # 3a. each page: loads cleanly, images present, show_doc rendered
            url = base + info["page"]
            errors.clear()
            page.goto(url, wait_until="networkidle")
            f = facts[info["page"]] = page.evaluate(PAGE_FACTS)
            problems += [f"{info['page']}: {e}" for e in errors]
            problems += [f"{info['page']}: image not loaded: {i['src']}" for i in f["images"] if not i["ok"]]
            problems += [f"{info['page']}: show_doc({n}) not rendered" for n in info["show_doc"] if n not in f["headings"]]
            if info["title"] not in f["headings"]: problems.append(f"{info['page']}: no heading {info['title']!r}")
        n_links = n_external = 0               # 3b. every internal link resolves to a built file (and anchor)
        for name, f in facts.items():
            for href in f["links"]:
                if not href.startswith(base): n_external += 1; continue
                n_links += 1
                parts = urlsplit(href)
                rel = unquote(parts.path).lstrip("/") or "index.html"
                if rel.endswith("/"): rel += "index.html"
                if not (SITE/rel).is_file(): problems.append(f"{name}: broken link {href[len(base):]}"); continue
                if parts.fragment and rel in facts and unquote(parts.fragment) not in facts[rel]["ids"]:
                    problems.append(f"{name}: link to a missing anchor {rel}#{parts.fragment}")
        page.goto(base, wait_until="networkidle")                     # 3c. search finds a chapter's word
        try:
            page.keyboard.press("/")                                      # Material's search shortcut
            page.keyboard.type("attention", delay=20)
            page.wait_for_selector(".md-search-result__item", timeout=10_000)
            n_hits = page.locator(".md-search-result__item").count()
        except Exception as e: n_hits = 0; problems.append(f"search: no results for 'attention' ({type(e).__name__})")
        page.goto(base + SCREENSHOT_PAGE, wait_until="networkidle")   # 3d. one page, as a reader sees it
        page.screenshot(path=str(SITE/SCREENSHOT))
        browser.close()
    server.shutdown()
    n_images = sum(len(f["images"]) for f in facts.values())
    n_docs = sum(len(i["show_doc"]) for i in infos)
    print(f"docs check: {len(facts)} pages, {n_images} images, {n_links} internal links ({n_external} external, "
          f"not followed), {n_docs} show_doc entries, search {n_hits} results; screenshot "
          f"{(SITE/SCREENSHOT).relative_to(ROOT)} ({time.time() - t0:.0f} s)")
    if problems:
        print("\n".join(f"FAIL {p}" for p in problems[:50]), file=sys.stderr)
        sys.exit(f"docs check: {len(problems)} problems")


def serve(port: int):
    print(f"serving {SITE.relative_to(ROOT)}/ at http://127.0.0.1:{port}/ (Ctrl-C stops)")
    try: _server(port).serve_forever()
    except KeyboardInterrupt: pass


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="nbdev's processed notebooks -> _site/")
    b.add_argument("--force", action="store_true", help="re-process every notebook (ignore nbdev's _proc/ cache)")
    sub.add_parser("check", help="load every page of _site/ in headless Chromium")
    s = sub.add_parser("serve", help="serve _site/ over HTTP")
    s.add_argument("--port", type=int, default=8000)
    args = ap.parse_args()
    if args.cmd == "build": build(args.force)
    elif args.cmd == "check": check()
    else: serve(args.port)
