"""The desk pack's front ends (``onestop desk``: the dispatcher's console)."""

__all__ = ["community_name"]


def community_name(app) -> str:
    """The community's name (``[desk] site_name``) on the desk's screens and slips, else the site's."""
    return app.site.get("desk", "site_name") or app.site_name
