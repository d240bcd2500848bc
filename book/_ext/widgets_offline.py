"""Serve the ipywidgets and MathJax JavaScript from the built book when it is available.

``make widgets-js`` installs ``@jupyter-widgets/html-manager``, ``requirejs`` and
``mathjax`` from the npm registry and copies the few files a page needs into the ignored
folder ``book/_widgets_js``. This extension serves that folder at the root of the built
site through ``html_extra_path`` (not ``_static``, whose scripts would load on every page
and render each widget twice) and points myst-nb and Sphinx at it. Without the folder the
book falls back to the CDN defaults, and widgets and math need a network to render.

The explorers are anywidgets (``genotutor.widgets._view``). The HTML manager looks a
widget's module up with require.js, by name, before trying a CDN, so the anywidget front end
that the ``anywidget`` Python package ships for the classic notebook (an AMD module) is
copied to the site's root as ``anywidget.js``, with or without npm.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

FOLDER = "_widgets_js"
logger = logging.getLogger(__name__)


def _configure(app: Sphinx, config: Config) -> None:
    folder = Path(app.srcdir) / FOLDER
    needed = [folder / "require.min.js", folder / "embed-amd.js"]
    if not all(path.is_file() for path in needed):
        logger.info("widgets_offline: %s not populated; widgets load from the CDN", FOLDER)
        return
    config.html_extra_path = [*config.html_extra_path, FOLDER]
    # Sphinx puts "_static/" before a script path without "://"; "../" climbs back out
    # to the site's root, where html_extra_path put the files (all pages sit at the root).
    config.nb_ipywidgets_js = {"../require.min.js": {}, "../embed-amd.js": {}}
    if (folder / "mathjax" / "tex-chtml.js").is_file():
        # Sphinx resolves a relative mathjax_path against _static/.
        config.mathjax_path = "../mathjax/tex-chtml.js"


def _copy_anywidget(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    import anywidget

    source = Path(anywidget.__file__).parent / "nbextension" / "index.js"
    shutil.copyfile(source, Path(app.outdir) / "anywidget.js")


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _configure, priority=900)
    app.connect("build-finished", _copy_anywidget)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
