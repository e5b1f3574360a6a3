"""A step of the cipher chain (MiniK8s's "subtract"): subtracts the key from every number.

{"numbers": [77, 110], "key": 5, ...} -> {"numbers": [72, 105], "key": 5, ...}: it undoes
add_key. The other fields of the event are passed on.
"""

NAME = "subtract_key"


def numbers_and_key(event):
    """The event's "numbers" (a list of integers) and "key" (an integer); a ValueError naming the field otherwise."""
    if not isinstance(event, dict):
        raise ValueError('%s: the event must be a JSON object with "numbers" and "key", got %s' % (NAME, type(event).__name__))
    for name in ("numbers", "key"):
        if name not in event:
            raise ValueError('%s: "%s" is required (%s)' % (NAME, name, "a list of integers" if name == "numbers" else "an integer"))
    numbers, key = event["numbers"], event["key"]
    if not isinstance(numbers, list) or any(not isinstance(n, int) or isinstance(n, bool) for n in numbers):
        raise ValueError('%s: "numbers" must be a list of integers' % NAME)
    if not isinstance(key, int) or isinstance(key, bool):
        raise ValueError('%s: "key" must be an integer, got %s' % (NAME, type(key).__name__))
    return numbers, key


def handler(event):
    """{"numbers": [77, 110], "key": 5, ...} -> {"numbers": [72, 105], "key": 5, ...}."""
    numbers, key = numbers_and_key(event)
    return {**event, "numbers": [n - key for n in numbers]}
