"""The first step of the cipher chain: shifts every letter of the text `shift` places along the alphabet.

A Caesar shift: "Hello" with shift 3 is "Khoor"; a negative shift moves left, so shift -3 undoes
shift 3. Letters keep their case and wrap around (z + 1 is a); anything else is kept as it is.
The other fields of the event are passed on, so the next function gets what it needs.
"""

NAME = "move_right"


def field(event, name, kind):
    """event[name], checked to be `kind` (str or int; a bool is not an int); a ValueError naming the field otherwise."""
    if not isinstance(event, dict):
        raise ValueError('%s: the event must be a JSON object with "text" and "shift", got %s' % (NAME, type(event).__name__))
    if name not in event:
        raise ValueError('%s: "%s" is required (%s)' % (NAME, name, "a string" if kind is str else "an integer"))
    value = event[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError('%s: "%s" must be %s, got %s' % (NAME, name, "a string" if kind is str else "an integer", type(value).__name__))
    return value


def shifted(char, shift):
    for first in ("a", "A"):
        if first <= char <= chr(ord(first) + 25):
            return chr(ord(first) + (ord(char) - ord(first) + shift) % 26)
    return char


def handler(event):
    """{"text": "Hello", "shift": 3, ...} -> {"text": "Khoor", "shift": 3, ...}."""
    text = field(event, "text", str)
    shift = field(event, "shift", int)
    return {**event, "text": "".join(shifted(c, shift) for c in text)}
