class LocalStateRef:
    """Reference to a center's local state: here, that center's algorithm object."""

    __slots__ = ("algo",)

    def __init__(self, algo):
        self.algo = algo
