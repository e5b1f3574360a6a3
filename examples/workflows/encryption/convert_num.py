"""MiniK8s's encryption workflow, step 2: turns a short text into one number.

Each character is a digit in base 95 (the printable ASCII characters: space is 0, "~" is 94),
the first character the most significant: "!" is 1, "!!" is 96. Eight characters at most, so the
number stays exact in JSON (95^8 < 2^53). convert_char turns a number back into text.
"""

BASE = 95
FIRST = 32
MAX_CHARS = 8


def handler(event):
    """"ifmmp" -> 6006614195."""
    if not isinstance(event, str):
        raise ValueError("convert_num: the event must be a JSON string, got %s" % type(event).__name__)
    if len(event) > MAX_CHARS:
        raise ValueError("convert_num: at most %d characters, got %d" % (MAX_CHARS, len(event)))
    n = 0
    for c in event:
        if not FIRST <= ord(c) < FIRST + BASE:
            raise ValueError("convert_num: only printable ASCII characters, got %r" % c)
        n = n * BASE + ord(c) - FIRST
    return n
