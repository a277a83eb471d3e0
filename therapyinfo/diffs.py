"""Word-level differences for the review screen.

A reviewer reading a 700-character Markdown body side by side has to find a
changed dose by eye. `word_diff` marks what was deleted (`<del>`) and inserted
(`<ins>`) word by word, with the standard library's difflib, and collapses long
unchanged stretches to a few words of context either side, so "56 mg" → "84 mg"
is the first thing the reviewer sees. Every piece of text is escaped: the
content's own HTML is shown as typed, never rendered.
"""

import difflib
import re

from django.utils.html import escape
from django.utils.safestring import mark_safe

CONTEXT_WORDS = 6  # unchanged words kept either side of a change
FULL_TEXT_WORDS = 3  # longer new text is also offered in full, folded away
# A word, or the whitespace between words: whitespace is kept so line breaks
# stay where the editor put them (the screen shows the text with pre-wrap).
TOKENS = re.compile(r"\s+|[^\s]+")


def tokens(text):
    return TOKENS.findall(text or "")


def words_in(parts):
    return sum(not part.isspace() for part in parts)


def collapse(parts, keep_start, keep_end):
    """Unchanged tokens, shortened to `CONTEXT_WORDS` words at the ends that
    touch a change (`keep_start` / `keep_end`), with a marker for the gap."""
    if words_in(parts) <= CONTEXT_WORDS * (keep_start + keep_end) + 3:
        return escape("".join(parts))
    head, tail = [], []
    if keep_start:
        head = take_words(parts, CONTEXT_WORDS)
    if keep_end:
        tail = take_words(parts[::-1], CONTEXT_WORDS)[::-1]
    hidden = words_in(parts) - words_in(head) - words_in(tail)
    gap = f'<span class="diff-gap">[… {hidden} unchanged words …]</span>'
    return escape("".join(head)) + gap + escape("".join(tail))


def take_words(parts, count):
    taken = []
    for part in parts:
        if not part.isspace():
            if count == 0:
                break
            count -= 1
        taken.append(part)
    return taken


def word_diff(old, new):
    """HTML of `new` against `old`: deleted words in <del>, inserted in <ins>,
    long unchanged runs collapsed to a few words of context."""
    before, after = tokens(old), tokens(new)
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    opcodes = joined(matcher.get_opcodes(), before)
    html = []
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            html.append(
                collapse(before[i1:i2], keep_start=index > 0, keep_end=index + 1 < len(opcodes))
            )
            continue
        if i2 > i1:
            html.append(f"<del>{escape(''.join(before[i1:i2]))}</del>")
        if j2 > j1:
            html.append(f"<ins>{escape(''.join(after[j1:j2]))}</ins>")
    return mark_safe("".join(html))  # every piece escaped above


def joined(opcodes, before):
    """The opcodes with changes that only a space separates made one change, so
    a rewritten phrase reads "<del>old words</del><ins>new words</ins>" rather
    than alternating word by word."""
    merged = []
    for op in opcodes:
        if op[0] != "equal" and len(merged) > 1 and merged[-2][0] != "equal":
            _tag, i1, i2, _j1, _j2 = merged[-1]
            if all(part.isspace() for part in before[i1:i2]):
                merged.pop()
                first = merged.pop()
                op = ("replace", first[1], op[2], first[3], op[4])
        merged.append(op)
    return merged


def marked_changes(changes, added=False):
    """[(label, old, new)] from revisions.diff() as [(label, word diff HTML, full
    new text)]; the full text (for prose, where the diff leaves words out) is
    plain text for the template to escape. A row that is new has nothing to
    compare with, so all of it is inserted."""
    if added:
        return [(label, mark_safe(f"<ins>{escape(new)}</ins>"), "") for label, _old, new in changes]
    return [
        (label, word_diff(old, new), new if len(new.split()) > FULL_TEXT_WORDS else "")
        for label, old, new in changes
    ]


def marked_diff(diff):
    """revisions.diff()'s result with every change as a word diff."""
    return {
        "fields": marked_changes(diff["fields"]),
        "rows": [
            (group, kind, label, marked_changes(changes, added=kind == "added"))
            for group, kind, label, changes in diff["rows"]
        ],
    }
