"""Syntax checks of HCL snippets with HashiCorp's Go parser (pygohcl) when installed,
else python-hcl2."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=4096)
def parse_error(source: str) -> str | None:
    """None when *source* (a whole HCL body) parses, else a one-line reason."""
    try:
        import pygohcl
    except ImportError:
        return _parse_error_hcl2(source)
    try:
        pygohcl.loads(source)
    except pygohcl.HCLParseError as exc:
        return re.sub(r"tmp\.hcl:\d+,\d+(-\d+(,\d+)?)?: ", "", str(exc)).removeprefix("invalid HCL: ")
    except Exception as exc:  # pygohcl's internal errors: still a syntax verdict
        return str(exc)
    return None


def _parse_error_hcl2(source: str) -> str | None:
    import hcl2

    try:
        hcl2.loads(source)
    except Exception as exc:  # python-hcl2 raises lark errors of several kinds
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return None
