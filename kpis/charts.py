"""The one inline script Pulse's pages run: the few lines chartkick writes after each chart
(they read the chart's JSON from the element before them and draw it with Chartkick).

The Content-Security-Policy (config/settings/base.py) allows that script, and no other
inline one, by the SHA-256 of its text. The hash is computed here, when the settings are
loaded, from chartkick's own output rather than written down: an upgrade that changes the
script changes the hash with it, instead of silently leaving every chart blank."""
import base64
import hashlib
import re

from chartkick.django import LineChart

# The script element that has no attributes: the chart's data is the other <script>
# element, ``type="application/json"``, which browsers never execute.
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def chartkick_script() -> str:
    """The text of the inline script chartkick writes after every chart (the same for
    every chart type, id and data)."""
    scripts = _INLINE_SCRIPT.findall(str(LineChart([])))
    if len(scripts) != 1:
        # Not a fallback to no hash: the charts would stop drawing without anyone noticing.
        raise RuntimeError(f"chartkick's chart markup has changed: expected 1 inline script, found {len(scripts)}")
    return scripts[0]


def csp_script_hash(script: str) -> str:
    """The CSP source expression allowing exactly this inline script ("'sha256-…'"):
    the base64 SHA-256 of the text between <script> and </script>, as browsers hash it."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


CHARTKICK_SCRIPT_HASH = csp_script_hash(chartkick_script())
