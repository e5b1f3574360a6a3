"""MiniK8s's encryption workflow, step 3 (one side of its IF): adds the key to the number.

The event is a JSON number (an integer); the answer is the number + KEY.
"""

KEY = 1000


def handler(event):
    """n -> n + 1000."""
    if not isinstance(event, int) or isinstance(event, bool):
        raise ValueError("add: the event must be a JSON integer, got %s" % type(event).__name__)
    return event + KEY
