"""Render README.md from nbs/index.ipynb (Quarto, which `nbdev-readme` needs, cannot be installed here).

Usage: python .ci/readme.py          # write README.md
       python .ci/readme.py --check  # exit 1 if README.md is out of date
"""
import json, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
HEADER = "<!-- Generated from nbs/index.ipynb by .ci/readme.py: edit the notebook, not this file. -->\n\n"

def _text(x): return "".join(x) if isinstance(x, list) else x

def render(nb_path=root/"nbs"/"index.ipynb"):
    "Markdown cells as they are; code cells (minus `#|` directives; none for `#| echo: false`) as python blocks with their text output."
    nb = json.loads(Path(nb_path).read_text())
    parts = []
    for cell in nb["cells"]:
        src = _text(cell["source"])
        if cell["cell_type"] == "markdown":
            parts.append(src.strip())
        elif cell["cell_type"] == "code":
            lines = [l for l in src.splitlines() if not l.startswith("#|")]
            code = "\n".join(lines).strip()
            if "#| hide" in src or not code: continue
            if "#| echo: false" not in src: parts.append(f"```python\n{code}\n```")
            outs = []
            for o in cell.get("outputs", []):
                if o.get("output_type") == "stream": outs.append(_text(o["text"]))
                elif "text/markdown" in o.get("data", {}): parts.append(_text(o["data"]["text/markdown"]).strip())
                elif "text/plain" in o.get("data", {}): outs.append(_text(o["data"]["text/plain"]) + "\n")
            if outs: parts.append("```\n" + "".join(outs).rstrip("\n") + "\n```")
    text = "\n\n".join(p for p in parts if p)
    return HEADER + text.replace("](images/", "](nbs/images/") + "\n"           # image links relative to nbs/

if __name__ == "__main__":
    text, readme = render(), root/"README.md"
    if "--check" in sys.argv:
        if not readme.exists() or readme.read_text() != text:
            sys.exit("README.md is out of date with nbs/index.ipynb: run `python .ci/readme.py` and commit.")
        print("README.md matches nbs/index.ipynb")
    else:
        readme.write_text(text)
