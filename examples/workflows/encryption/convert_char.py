"""MiniK8s's encryption workflow, the last step: turns a number back into text.

The inverse of convert_num: each base-95 digit of the number is a printable ASCII character
(0 is a space, 94 is "~"), the most significant first; a negative number gets a leading "-".
"""

BASE = 95
FIRST = 32


def handler(event):
    """6006615195 -> "ifmxC"."""
    if not isinstance(event, int) or isinstance(event, bool):
        raise ValueError("convert_char: the event must be a JSON integer, got %s" % type(event).__name__)
    n = abs(event)
    digits = []
    while True:
        n, d = divmod(n, BASE)
        digits.append(chr(FIRST + d))
        if n == 0:
            break
    return ("-" if event < 0 else "") + "".join(reversed(digits))
