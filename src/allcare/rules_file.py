"""A centre's rule-set file (JSON or YAML overrides of ``engine/rules.py``), read for the CLI's
``--rules`` and the server's ``ALLCARE_RULES`` alike, with every problem named."""

from __future__ import annotations

import os
from pathlib import Path

from .engine.rules import RuleSet, RuleSetError, rules_from_dict


class RulesFileError(ValueError):
    """A rules file that cannot be read or is not a valid rule set; ``problems`` names each fault."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"rules file {path}: " + "; ".join(problems))


def read_rules_file(path: str | os.PathLike[str]) -> RuleSet:
    """The rule set of ``path``: the defaults with the file's overrides (and a version of its own)."""
    from .interop.casefile import CaseFileError, parse_case_text

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise RulesFileError(file, [f"cannot be read ({error.strerror or error})"]) from None
    except UnicodeDecodeError:
        raise RulesFileError(file, ["is not UTF-8 text"]) from None
    try:
        return rules_from_dict(parse_case_text(text, str(file)))
    except CaseFileError as error:
        raise RulesFileError(file, [str(p) for p in error.problems]) from None
    except RuleSetError as error:
        raise RulesFileError(file, str(error).split("; ")) from None
