"""Read a gettext catalogue (.po) as makemessages writes it: enough to tell which entries are
untranslated or fuzzy, with no dependency beyond the standard library."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")$")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False
    where: str = ""

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(v.strip() for v in self.msgstr.values())

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags


def read(path: Path) -> list[Entry]:
    """Every entry but the header, obsolete ones (`#~`) marked as such."""
    entries = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        entry, last = Entry(), None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry.obsolete = True
            elif line.startswith("#,"):
                entry.flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            elif line.startswith("#:"):
                entry.where += line[2:].strip() + " "
            elif line.startswith("#"):
                continue
            elif match := KEYWORD.match(line):
                keyword, text = match.group(1), ast.literal_eval(match.group(2))
                if keyword.startswith("msgstr"):
                    index = int(keyword[7:-1]) if "[" in keyword else 0
                    entry.msgstr[index] = text
                    last = ("msgstr", index)
                else:
                    setattr(entry, keyword, text)
                    last = (keyword, None)
            elif line.startswith('"') and last is not None:
                text = ast.literal_eval(line)
                if last[0] == "msgstr":
                    entry.msgstr[last[1]] += text
                else:
                    setattr(entry, last[0], (getattr(entry, last[0]) or "") + text)
        if last is not None and entry.msgid:
            entries.append(entry)
    return entries
