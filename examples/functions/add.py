"""Adds two numbers, as MiniK8s's example function did: the event carries a and b."""


def handler(event):
    """Returns {"sum": a + b} for an event {"a": ..., "b": ...}; numbers given as text are read as numbers."""
    a = float(event["a"])
    b = float(event["b"])
    total = a + b
    return {"sum": int(total) if total.is_integer() else total}
