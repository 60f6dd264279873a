"""Stand-ins for substrafl's TrainDataNode and AggregationNode.

update_states runs the pending call at once:
  * TrainDataNode: the upstream method runs on this center's own algorithm
    object (the one in its LocalStateRef; substrafl gives each organisation its
    own copy of the strategy and reloads its saved local state before each
    task), with data_from_opener = what this center's opener returns, and the
    shared state it was sent.
  * AggregationNode: runs on the aggregator's own copy, with the list of
    shared states in the order of the train data nodes.
Shared states cross between nodes as copies made by pickle (substrafl serialises
them between tasks), unless transport="reference" (then the same objects are
passed, which is only safe if no step mutates its input).
"""

import pickle


def _send(obj, transport):
    if transport == "pickle":
        return pickle.loads(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))
    return obj


class TrainDataNode:
    def __init__(self, organization_id, data_manager_key=None, data_sample_keys=None,
                 data_from_opener=None, transport="pickle"):
        self.organization_id = organization_id
        self.data_manager_key = data_manager_key
        self.data_sample_keys = data_sample_keys or [organization_id]
        self.data_from_opener = data_from_opener  # what the center's opener returns
        self.transport = transport

    def update_states(self, operation, local_state, round_idx=None, authorized_ids=None,
                      aggregation_id=None, clean_models=True):
        assert operation.kind == "remote_data", operation.kind
        algo = local_state.algo
        shared_in = _send(operation.shared_state, self.transport)
        out = operation.method(algo, self.data_from_opener, shared_in, **operation.params)
        return local_state, _send(out, self.transport)


class AggregationNode:
    def __init__(self, organization_id, algo=None, on_output=None):
        self.organization_id = organization_id
        self.algo = algo  # the aggregator's copy of the strategy
        self.on_output = on_output  # optional hook (the harness records round summaries)

    def update_states(self, operation, round_idx=None, authorized_ids=None, clean_models=True):
        assert operation.kind == "remote", operation.kind
        out = operation.method(self.algo, shared_states=operation.shared_states,
                               **operation.params)
        if self.on_output is not None:
            self.on_output(operation, out)
        return out
