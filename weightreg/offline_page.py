"""Build the HTML template that `dvc plots show/diff` fills, with Vega inlined: it works offline.

DVC's default page loads vega, vega-lite and vega-embed from a CDN and shows nothing without
internet. `make setup` installs them from the npm registry (package-lock.json pins them), runs

    python -m weightreg.offline_page node_modules .dvc/offline_plots.html

and makes the result DVC's default page (`dvc config --local plots.html_template
offline_plots.html`, a path relative to .dvc/). The scripts are inlined rather than linked, so a
page written anywhere with `dvc plots diff -o DIR` still renders. The page is generated, not
committed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from weightreg import io

BUNDLES = ("vega/build/vega.min.js", "vega-lite/build/vega-lite.min.js",
           "vega-embed/build/vega-embed.min.js")

# DVC replaces {plot_divs} with one <div> per plot, each calling vegaEmbed; it leaves out its
# CDN <script> tags because this page has no {scripts} placeholder.
PAGE = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>weightreg: DVC plots</title>
SCRIPTS
<style>
  body { font-family: sans-serif; margin: 1em 2em; }
  body > div { display: inline-block; vertical-align: top; margin: 0 1.5em 1.5em 0; }
  img { max-width: 720px; }
</style>
</head>
<body>
{plot_divs}
</body>
</html>
"""


def build(node_modules: Path) -> str:
    scripts = []
    for bundle in BUNDLES:
        path = node_modules / bundle
        try:
            code = path.read_text(encoding="utf-8")
        except OSError as error:
            raise ValueError(f"{path}: {error.strerror}; run `npm ci` first") from None
        # A literal "</script" inside the code would end the inline <script> element early.
        code = code.replace("</script", "<\\/script")
        scripts.append(f"<script>/* {bundle} */\n{code}\n</script>")
    return PAGE.replace("SCRIPTS", "\n".join(scripts))


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m weightreg.offline_page NODE_MODULES OUT_HTML", file=sys.stderr)
        return 2
    try:
        page = build(Path(argv[0]))
    except ValueError as error:
        print(f"weightreg offline_page: error: {error}", file=sys.stderr)
        return 2
    io.write({argv[1]: page})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
