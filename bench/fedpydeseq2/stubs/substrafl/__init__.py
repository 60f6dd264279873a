"""Minimal stand-in for substrafl (not installable here: no PyPI).

Only what fedpydeseq2's core imports: ComputePlanBuilder, substrafl.remote
(remote_data, remote), substrafl.nodes (TrainDataNode, AggregationNode) and the
state references. No numerical code: the decorated upstream methods run
unchanged, on the node that owns them, when a node's update_states is called
(see nodes/__init__.py), i.e. eagerly, in the order fedpydeseq2's compute plan
registers them (local_step: every center in turn; aggregation_step: the
aggregator).
"""


class ComputePlanBuilder:
    """substrafl.ComputePlanBuilder: keeps the constructor kwargs, nothing else."""

    def __init__(self, custom_metadata=None, **kwargs):
        self.custom_metadata = custom_metadata
        self.kwargs = kwargs
