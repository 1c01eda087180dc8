"""Build the HTML template that `dvc plots show/diff` fills, with Vega inlined: it works offline.

DVC's default page loads Vega, Vega-Lite and Vega-Embed from a CDN and shows nothing without
internet. `make setup` runs

    python -m weightreg.offline_page .dvc/offline_plots.html

which takes all three from `vl-convert-python` (a pinned PyPI package that embeds them, so no
Node or npm is needed) and makes the result DVC's default page (`dvc config --local
plots.html_template offline_plots.html`, a path relative to .dvc/). The scripts are inlined
rather than linked, so a page written anywhere with `dvc plots diff -o DIR` still renders. The
page is generated, not committed.
"""

from __future__ import annotations

import sys

from weightreg import io

# The Vega-Lite release DVC's templates are written for: their specs name the v5 schema, and
# DVC's own page loads vega-lite@5. 5.21 is the newest 5.x that vl-convert-python bundles.
VEGA_LITE = "5.21"

# DVC replaces {plot_divs} with one <div> per plot, each calling vegaEmbed; it leaves out its
# CDN <script> tags because this page has no {scripts} placeholder.
PAGE = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>weightreg: DVC plots</title>
<script>/* Vega, Vega-Lite VEGA_LITE and Vega-Embed, bundled by vl-convert-python */
SCRIPTS
</script>
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


def build() -> str:
    import vl_convert

    # The standard bundle sets window.vega, window.vegaLite and window.vegaEmbed.
    code = vl_convert.javascript_bundle(vl_version=VEGA_LITE)
    # A literal "</script" inside the code would end the inline <script> element early.
    code = code.replace("</script", "<\\/script")
    return PAGE.replace("VEGA_LITE", VEGA_LITE).replace("SCRIPTS", code)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m weightreg.offline_page OUT_HTML", file=sys.stderr)
        return 2
    io.write({argv[0]: build()})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
