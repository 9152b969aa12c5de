"""The CLI's consoles: rich consoles that never pass a control character from the data to the terminal.

Text from a case file or a FHIR file (a lesion name, a protocol, an identifier from an older store) reaches
the CLI's output. A terminal obeys ESC sequences (recolour, clear the screen, set the window title, move the
cursor) and reorders text after a bidirectional control, so such text could hide or fake what allcare
printed. rich passes plain text through as it is; these consoles show each such character as a visible
escape (``\\x1b``, ``\\u202e``) and keep rich's own styling, which it writes itself around the text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from rich.console import Console
from rich.segment import Segment

_KEPT = frozenset("\n\t")
# Control characters (Unicode category Cc: C0, DEL, C1) and format characters (Cf: the bidirectional controls
# of UAX #9, zero-width characters, tag characters), each written as the escape Python would show for it.
_HIDDEN = frozenset({"Cc", "Cf"})


def visible(text: str) -> str:
    """``text`` with every control and format character but line breaks and tabs written as an escape."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(char.encode("unicode_escape").decode("ascii")
                   if char not in _KEPT and unicodedata.category(char) in _HIDDEN else char for char in text)


class SafeConsole(Console):
    """A rich ``Console`` whose text segments go out through :func:`visible` (rich's own control segments,
    such as cursor moves it makes itself, and the styles it renders around the text are left alone)."""

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(
            segment if segment.control else Segment(visible(segment.text), segment.style, segment.control)
            for segment in buffer
        )
