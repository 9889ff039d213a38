"""The reviewer web pages under /ui: sign in with a reviewer key, read what was held, decide.

Server-rendered HTML (Jinja2 templates, one CSS file, no scripts); decisions go through the same
``ReviewService`` as the JSON API. See docs/ui.md.
"""

from gateway.ui.routes import router

__all__ = ["router"]
