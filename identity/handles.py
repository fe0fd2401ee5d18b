"""A social profile's name, completed from its handle.

Profiles often show a short name ("Bob S.", "Christine", "东欣") while the handle spells it
out ("bob_smith", "christinemiller204", "dongxinchen340"). Without the surname such a
profile cannot be told apart from everyone sharing the first name, so the canonical record
uses the completed name. Completion only fills in what the display name leaves open: the
handle must contain the shown name (or a formal form of a shown nickname), and a shown
initial must agree with the surname found.
"""

from __future__ import annotations

import re
from functools import lru_cache

from identity import standardise
from identity.comparison_columns import latin_key, nickname_forms

# Handle decorations that are not part of a name ("the_anna", "real.bob.smith").
_DECORATIONS = frozenset({"the", "real", "iam", "its", "official", "mr", "mrs", "ms", "dr"})
_MIN_SURNAME = 2


def _handle_tokens(handle: str) -> list[str]:
    tokens = [t for t in re.split(r"[^a-z]+", handle.lower()) if t]
    return [t for t in tokens if t not in _DECORATIONS]


def _surname_in(tokens: list[str], first_keys: list[str]) -> str | None:
    """The handle's text beside the first name: a token of its own, or the rest of one.

    Longer keys go first, so "danielchambers" yields "chambers" for Dan, not "ielchambers".
    """
    for key in sorted(set(first_keys), key=len, reverse=True):
        if key in tokens and len(tokens) == 2:
            other = tokens[1 - tokens.index(key)]
            return other if len(other) >= _MIN_SURNAME else None
        for token in tokens:
            if len(token) - len(key) < _MIN_SURNAME:
                continue
            if token.startswith(key):
                return token[len(key):]
            if token.endswith(key):
                return token[: -len(key)]
    return None


@lru_cache(maxsize=500_000)
def name_from_handle(display_name: str | None, handle: str | None) -> str | None:
    """``"first|last"`` when the handle completes the display name, else None.

    "Bob S." + bob_smith gives "Bob|Smith"; 东欣 + dongxinchen340 gives "东欣|Chen" (the
    surname is known only in pinyin). None means the display name is complete or the
    handle does not spell it out, and the display name is to be split as it stands.
    """
    name = standardise.clean_name(display_name)
    if not name or not handle:
        return None
    tokens = _handle_tokens(handle)
    if not tokens:
        return None
    if standardise.has_cjk(name):
        if " " in name:
            return None
        # A Chinese display name is a given name only when the handle spells it with a
        # surname beside it; 陈东欣 already carries its surname.
        given = latin_key(name)
        surname = _surname_in(tokens, [given] if given else [])
        return f"{name}|{surname.title()}" if surname else None
    words = [w.strip(".") for w in name.split() if w.strip(".")]
    if len(words) == 1:
        shown, initial = words[0], None
    elif len(words) == 2 and min(len(w) for w in words) == 1:
        shown, initial = sorted(words, key=len, reverse=True)[0], min(words, key=len)
    else:
        return None
    key = latin_key(shown)
    if not key:
        return None
    surname = _surname_in(tokens, [key, *nickname_forms().get(key, ())])
    if not surname or (initial and not surname.startswith(latin_key(initial) or "?")):
        return None
    # "Turner L." shows the surname first and becomes Turner|Leah: the name comparison
    # has a level for swapped names, so the order as shown is kept.
    return f"{shown}|{surname.title()}"
