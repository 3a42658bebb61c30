"""The course's own checks, run by .ci/run before the notebook suite.

  python .ci/checks.py          # all checks; exit 1 listing every problem
  python .ci/checks.py --self   # show that each check catches what it is for (on made-up input)

1. cells:   every code cell of every notebook parses as Python, `#| slow`, `#| cuda` and `#| net` cells too
            (lines of IPython magics and shell escapes left out).
2. voice:   no notebook speaks of the machine's load, dates or machine paths (in sources or kept outputs).
3. exports: every name a chapter exports is used by at least one other code cell of that chapter.
4. clones:  no two places in the library repeat 6 or more lines (pylint's `symilar`, comments, docstrings and
            imports ignored; the generated _modidx.py left out).
"""
import ast, json, re, subprocess, sys, tempfile
from pathlib import Path

root = Path(__file__).resolve().parent.parent
VOICE = re.compile(r"(quiet machine|loaded machine|\(quiet\)|\(loaded\)|under load|dev machine|development machine"
                   r"|(?<![\w.~:/])/(?:work|tmp|root|home|Users)/[\w.-]+/|\b20\d\d-\d\d-\d\d\b)", re.I)

def _src(cell): return "".join(cell["source"])

def cells(nb_path: Path) -> list[dict]: return json.loads(nb_path.read_text())["cells"]

def check_parse(path: Path) -> list[str]:
    bad = []
    for i, c in enumerate(cells(path)):
        if c["cell_type"] != "code": continue
        code = "\n".join(l for l in _src(c).splitlines() if not l.lstrip().startswith(("%", "!")))
        try: ast.parse(code)
        except SyntaxError as e: bad.append(f"{path.relative_to(root)} cell {i}: does not parse ({e.msg}, line {e.lineno})")
    return bad

def check_voice(path: Path) -> list[str]:
    bad = []
    for i, c in enumerate(cells(path)):
        outs = "".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", "")) for o in c.get("outputs", []))
        if m := VOICE.search(_src(c) + "\n" + outs):
            bad.append(f"{path.relative_to(root)} cell {i}: {m.group(0)!r} (say what is measured and on what hardware class, not how the machine felt)")
    return bad

def _exported_names(tree: ast.Module) -> list[str]:
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): names.append(node.name)
        elif isinstance(node, ast.Assign): names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name): names.append(node.target.id)
    return [n for n in names if not n.startswith("_")]

def check_exports(path: Path) -> list[str]:
    cs = [c for c in cells(path) if c["cell_type"] == "code"]
    is_export = lambda c: re.search(r"^#\|\s*export\b", _src(c), re.M) is not None
    exported, others = [], "\n".join(_src(c) for c in cs if not is_export(c))
    for c in cs:
        if not is_export(c): continue
        try: exported += _exported_names(ast.parse(_src(c)))
        except SyntaxError: pass                                        # reported by check_parse
    return [f"{path.relative_to(root)}: exported `{n}` is used by no other cell of the chapter"
            for n in dict.fromkeys(exported) if not re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", others)]

def check_clones(folder: Path) -> list[str]:
    files = sorted(str(p) for p in folder.glob("*.py") if p.name != "_modidx.py")
    r = subprocess.run([sys.executable, "-m", "pylint.checkers.symilar", "-d", "6", "--ignore-comments", "--ignore-docstrings",
                        "--ignore-imports", *files], capture_output=True, text=True)
    m = re.search(r"duplicates=(\d+)", r.stdout)
    if m is None: return [f"symilar did not run: {(r.stderr or r.stdout).strip().splitlines()[-1:]}"]
    return [] if m.group(1) == "0" else [f"{folder.name}/: code repeated in several places:\n{r.stdout.strip()}"]

def notebooks(): return sorted((root/"nbs").rglob("*.ipynb"))

def run_all() -> int:
    problems = []
    for nb in notebooks():
        if nb.name.startswith("_") or ".ipynb_checkpoints" in nb.parts: continue
        problems += check_parse(nb) + check_voice(nb)
        if nb.parent.name == "nbs" and nb.name != "index.ipynb": problems += check_exports(nb)
    problems += check_clones(root/"gpt2_nb")
    for p in problems: print(f"FAIL: {p}", file=sys.stderr)
    print(f"checks: {len(notebooks())} notebooks and the library; {len(problems)} problem(s)")
    return 1 if problems else 0

def self_test() -> int:
    "Each check flags made-up input that breaks its rule, and passes input that keeps it."
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        def nb(*cells_src):
            p = d/f"nb{len(list(d.glob('*.ipynb')))}.ipynb"
            p.write_text(json.dumps({"cells": [dict(cell_type=k, source=[s], outputs=[], metadata={}) for k, s in cells_src]}))
            return p
        global root
        saved, root = root, d
        try:
            assert check_parse(nb(("code", "#| cuda\nx = 1\n\nThe real Quick start, about a minute"))), "parse"
            assert not check_parse(nb(("code", "%time x = 1\nprint(x)")))
            assert check_voice(nb(("markdown", "measured on the quiet machine"))), "voice"
            assert check_voice(nb(("code", "print('/work/main/nbs')"))), "voice path"
            assert check_exports(nb(("code", "#| export\ndef lonely(): pass"), ("code", "print(1)"))), "exports"
            assert not check_exports(nb(("code", "#| export\ndef used(): pass"), ("code", "used()")))
            lib = d/"lib"; lib.mkdir()
            body = "\n".join(f"    total = total + {i} * x" for i in range(8))
            (lib/"a.py").write_text(f"def f(x):\n    total = 0\n{body}\n    return total\n")
            (lib/"b.py").write_text(f"def g(x):\n    total = 0\n{body}\n    return total\n")
            assert check_clones(lib), "clones"
            (lib/"b.py").write_text("def g(x): return x\n")
            assert not check_clones(lib)
        finally: root = saved
    print("checks: each check catches what it is for")
    return 0

if __name__ == "__main__": sys.exit(self_test() if "--self" in sys.argv else run_all())
