"""User text made inert: no control characters, no direction overrides, no spreadsheet formulas,
no link shapes a chat client would make clickable.

`clean_text` runs on input (comments, impact notes, "who", chair topics) and again on output
where text reaches a terminal or a file, for anything stored before it existed. A terminal
obeys escape sequences (ESC, CSI and the C1 controls), so a comment could recolour, hide or
rewrite what an operator reads; bidi overrides (U+202A–202E, U+2066–2069) make text display
in a different order than it is stored ("Trojan Source", CVE-2021-42574). Newline and tab stay:
people write paragraphs.
"""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, C1 controls, and the bidi embeddings, overrides and
# isolates. The marks (LRM, RLM, ALM) stay: they only nudge neutral characters, and Arabic and
# Hebrew text needs them.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile("\r\n?|[\u2028\u2029\x85]")

# OWASP "CSV Injection": a spreadsheet reads a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean_text(text: str) -> str:
    """`text` without control characters or bidi overrides; line breaks kept as `\\n`."""
    return _CONTROL.sub("", _LINE_BREAKS.sub("\n", text))


def csv_cell(text: str) -> str:
    """A text cell a spreadsheet shows as text: cleaned, with a leading `'` if it could be a formula."""
    text = clean_text(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


WORD_JOINER = "\u2060"
# Where a chat client starts to recognise a link: `https:` + `//`, `x` + `.com` (a dot before a
# letter, so figures like 3.5 stay as they are; `www.x.com`, `bob@x.org` too), `10` + `.0.0.1`.
# Not `@`: "/invite @pulsebot" must stay typeable; faces turn mentions off their own way.
_LINK_SHAPES = re.compile(r"(?<=:)(?=//)|(?<=\w)(?=\.[^\W\d_])|(?<=\d)(?=\.\d{1,3}\.\d{1,3}\.\d{1,3}\b)")


def unlink(text: str) -> str:
    """`text` with every URL, domain or address shape broken by an invisible word joiner (U+2060).

    For faces whose clients link URL-shaped text on display whatever the markup says (Slack,
    Teams): the words read the same, nothing is clickable. Not for stored text or form values.
    """
    return _LINK_SHAPES.sub(WORD_JOINER, text)
