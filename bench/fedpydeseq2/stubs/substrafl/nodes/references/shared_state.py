class SharedStateRef:
    """Reference to a shared state. The stub nodes pass the shared values
    themselves (dicts of numpy arrays), so this class is only imported."""
