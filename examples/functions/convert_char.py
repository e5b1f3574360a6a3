"""The last step of the cipher chain: turns a list of code points back into text.

{"numbers": [72, 105], ...} -> {"text": "Hi", ...}: "numbers" is replaced by "text", and the
other fields of the event are passed on. A number that is no Unicode character (below 0, above
0x10FFFF, or a surrogate) is refused by its position.
"""

NAME = "convert_char"


def numbers_of(event):
    """The event's "numbers", a list of integers; a ValueError naming the field otherwise."""
    if not isinstance(event, dict):
        raise ValueError('%s: the event must be a JSON object with "numbers", got %s' % (NAME, type(event).__name__))
    if "numbers" not in event:
        raise ValueError('%s: "numbers" is required (a list of integers)' % NAME)
    numbers = event["numbers"]
    if not isinstance(numbers, list) or any(not isinstance(n, int) or isinstance(n, bool) for n in numbers):
        raise ValueError('%s: "numbers" must be a list of integers' % NAME)
    for i, n in enumerate(numbers):
        if n < 0 or n > 0x10FFFF or 0xD800 <= n <= 0xDFFF:
            raise ValueError("%s: numbers[%d] = %d is not a Unicode character (0 to 0x10FFFF, no surrogates)" % (NAME, i, n))
    return numbers


def handler(event):
    """{"numbers": [72, 105], ...} -> {"text": "Hi", ...}."""
    numbers = numbers_of(event)
    out = {k: v for k, v in event.items() if k != "numbers"}
    out["text"] = "".join(chr(n) for n in numbers)
    return out
