"""Stand-ins for substrafl.remote.remote_data / remote.

In substrafl, calling a decorated method while building a compute plan does not
run it: it returns an operation (method + arguments) that a node registers with
update_states, and the task later runs the undecorated method on that node's own
copy of the algorithm. Here the operation is a _PendingCall that the stub nodes
run immediately (substrafl/nodes/__init__.py).
"""

from functools import wraps


class _PendingCall:
    __slots__ = ("method", "kind", "shared_state", "shared_states", "params", "name")

    def __init__(self, method, kind, params, name, shared_state=None, shared_states=None):
        self.method = method  # the upstream function below the substrafl decorator
        self.kind = kind  # "remote_data" (train node) or "remote" (aggregator)
        self.params = params
        self.name = name
        self.shared_state = shared_state
        self.shared_states = shared_states


def remote_data(method):
    """substrafl.remote.remote_data: method(self, data_from_opener, shared_state, **kw)."""

    @wraps(method)
    def wrapper(self, data_samples=None, shared_state=None, _algo_name=None, **method_parameters):
        return _PendingCall(method, "remote_data", method_parameters, _algo_name,
                            shared_state=shared_state)

    wrapper.__wrapped_remote__ = method
    return wrapper


def remote(method):
    """substrafl.remote.remote: method(self, shared_states, **kw) on the aggregator."""

    @wraps(method)
    def wrapper(self, shared_states=None, _algo_name=None, **method_parameters):
        return _PendingCall(method, "remote", method_parameters, _algo_name,
                            shared_states=shared_states)

    wrapper.__wrapped_remote__ = method
    return wrapper
