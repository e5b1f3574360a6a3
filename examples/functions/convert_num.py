"""A step of the cipher chain: turns the text into the list of its characters' code points.

{"text": "Hi", ...} -> {"numbers": [72, 105], ...}: "text" is replaced by "numbers", and the other
fields of the event are passed on.
"""

NAME = "convert_num"


def field(event, name, kind):
    """event[name], checked to be `kind`; a ValueError naming the field otherwise."""
    if not isinstance(event, dict):
        raise ValueError('%s: the event must be a JSON object with "text", got %s' % (NAME, type(event).__name__))
    if name not in event:
        raise ValueError('%s: "%s" is required (a string)' % (NAME, name))
    value = event[name]
    if not isinstance(value, kind):
        raise ValueError('%s: "%s" must be a string, got %s' % (NAME, name, type(value).__name__))
    return value


def handler(event):
    """{"text": "Hi", ...} -> {"numbers": [72, 105], ...}."""
    text = field(event, "text", str)
    out = {k: v for k, v in event.items() if k != "text"}
    out["numbers"] = [ord(c) for c in text]
    return out
