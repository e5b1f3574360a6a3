"""MiniK8s's encryption workflow, step 1: moves every letter one place right along the alphabet.

"hello" -> "ifmmp": a becomes b, z wraps to a, capitals stay capitals; anything that is not a
letter is kept as it is. The event is a JSON string; the answer is one too.
"""


def shifted(char):
    for first in ("a", "A"):
        if first <= char <= chr(ord(first) + 25):
            return chr(ord(first) + (ord(char) - ord(first) + 1) % 26)
    return char


def handler(event):
    """"hello" -> "ifmmp"."""
    if not isinstance(event, str):
        raise ValueError("move_right: the event must be a JSON string, got %s" % type(event).__name__)
    return "".join(shifted(c) for c in event)
