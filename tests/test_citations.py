"""The project cites only what it contains (its own docs) or public sources."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [*(ROOT / "src").rglob("*.py"), *(ROOT / "src").rglob("*.html"), *(ROOT / "docs").glob("*.md"),
           ROOT / "README.md"]
ANCHORS = set(re.findall(r'<a id="([a-z0-9-]+)"></a>', (ROOT / "docs" / "decisions.md").read_text()))


def test_nothing_cites_the_developers_reference_or_its_source_keys():
    absent = re.compile(r"clinical-standards|shared/reference|\[S\d+\]|(?<![/\w(\[])decisions\.md(?![#)\]])")
    hits = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in SHIPPED if p.name != "decisions.md"
            for m in absent.finditer(p.read_text(encoding="utf-8"))]
    assert hits == []


def test_every_cited_decision_section_exists():
    cited = {(p.relative_to(ROOT), anchor) for p in SHIPPED
             for anchor in re.findall(r"decisions\.md\s*#([a-z0-9-]+)", p.read_text(encoding="utf-8"))}
    assert sorted(str(c) for c in cited if c[1] not in ANCHORS) == []
