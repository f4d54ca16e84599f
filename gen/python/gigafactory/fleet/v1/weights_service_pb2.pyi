from gigafactory.fleet.v1 import job_pb2 as _job_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ArmComparison(_message.Message):
    __slots__ = ["candidate", "control", "cost", "success_rate", "turnaround_ms", "wait_ms"]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    CONTROL_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_RATE_FIELD_NUMBER: _ClassVar[int]
    TURNAROUND_MS_FIELD_NUMBER: _ClassVar[int]
    WAIT_MS_FIELD_NUMBER: _ClassVar[int]
    candidate: ArmStats
    control: ArmStats
    cost: MeanInterval
    success_rate: MeanInterval
    turnaround_ms: MeanInterval
    wait_ms: MeanInterval
    def __init__(self, control: _Optional[_Union[ArmStats, _Mapping]] = ..., candidate: _Optional[_Union[ArmStats, _Mapping]] = ..., success_rate: _Optional[_Union[MeanInterval, _Mapping]] = ..., wait_ms: _Optional[_Union[MeanInterval, _Mapping]] = ..., turnaround_ms: _Optional[_Union[MeanInterval, _Mapping]] = ..., cost: _Optional[_Union[MeanInterval, _Mapping]] = ...) -> None: ...

class ArmStats(_message.Message):
    __slots__ = ["arm", "cost", "decided", "placements", "success_rate", "turnaround_ms", "wait_ms"]
    ARM_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    DECIDED_FIELD_NUMBER: _ClassVar[int]
    PLACEMENTS_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_RATE_FIELD_NUMBER: _ClassVar[int]
    TURNAROUND_MS_FIELD_NUMBER: _ClassVar[int]
    WAIT_MS_FIELD_NUMBER: _ClassVar[int]
    arm: str
    cost: MeanInterval
    decided: int
    placements: int
    success_rate: MeanInterval
    turnaround_ms: MeanInterval
    wait_ms: MeanInterval
    def __init__(self, arm: _Optional[str] = ..., placements: _Optional[int] = ..., decided: _Optional[int] = ..., success_rate: _Optional[_Union[MeanInterval, _Mapping]] = ..., wait_ms: _Optional[_Union[MeanInterval, _Mapping]] = ..., turnaround_ms: _Optional[_Union[MeanInterval, _Mapping]] = ..., cost: _Optional[_Union[MeanInterval, _Mapping]] = ...) -> None: ...

class EvaluateWeightsRequest(_message.Message):
    __slots__ = ["product_id", "seed", "weights"]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    seed: int
    weights: _job_pb2.ScoringWeights
    def __init__(self, product_id: _Optional[str] = ..., weights: _Optional[_Union[_job_pb2.ScoringWeights, _Mapping]] = ..., seed: _Optional[int] = ...) -> None: ...

class EvaluateWeightsResponse(_message.Message):
    __slots__ = ["candidate_weights", "current_weights", "evaluation"]
    CANDIDATE_WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    CURRENT_WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    candidate_weights: _job_pb2.ScoringWeights
    current_weights: _job_pb2.ScoringWeights
    evaluation: WeightsEvaluation
    def __init__(self, current_weights: _Optional[_Union[_job_pb2.ScoringWeights, _Mapping]] = ..., candidate_weights: _Optional[_Union[_job_pb2.ScoringWeights, _Mapping]] = ..., evaluation: _Optional[_Union[WeightsEvaluation, _Mapping]] = ...) -> None: ...

class GetWeightsExperimentRequest(_message.Message):
    __slots__ = ["product_id", "seed"]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    seed: int
    def __init__(self, product_id: _Optional[str] = ..., seed: _Optional[int] = ...) -> None: ...

class GetWeightsExperimentResponse(_message.Message):
    __slots__ = ["comparison", "experiment"]
    COMPARISON_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    comparison: ArmComparison
    experiment: WeightsExperiment
    def __init__(self, experiment: _Optional[_Union[WeightsExperiment, _Mapping]] = ..., comparison: _Optional[_Union[ArmComparison, _Mapping]] = ...) -> None: ...

class MeanInterval(_message.Message):
    __slots__ = ["count", "high", "low", "mean"]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    HIGH_FIELD_NUMBER: _ClassVar[int]
    LOW_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    count: int
    high: float
    low: float
    mean: float
    def __init__(self, mean: _Optional[float] = ..., low: _Optional[float] = ..., high: _Optional[float] = ..., count: _Optional[int] = ...) -> None: ...

class MetricChange(_message.Message):
    __slots__ = ["baseline", "candidate", "change"]
    BASELINE_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    baseline: float
    candidate: float
    change: MeanInterval
    def __init__(self, baseline: _Optional[float] = ..., candidate: _Optional[float] = ..., change: _Optional[_Union[MeanInterval, _Mapping]] = ...) -> None: ...

class RecommendWeightsRequest(_message.Message):
    __slots__ = ["objective", "product_id", "seed"]
    OBJECTIVE_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    objective: str
    product_id: str
    seed: int
    def __init__(self, product_id: _Optional[str] = ..., objective: _Optional[str] = ..., seed: _Optional[int] = ...) -> None: ...

class RecommendWeightsResponse(_message.Message):
    __slots__ = ["current_weights", "evaluation", "objective", "recommended", "tried", "weights"]
    CURRENT_WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDED_FIELD_NUMBER: _ClassVar[int]
    TRIED_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    current_weights: _job_pb2.ScoringWeights
    evaluation: WeightsEvaluation
    objective: str
    recommended: bool
    tried: int
    weights: _job_pb2.ScoringWeights
    def __init__(self, recommended: bool = ..., objective: _Optional[str] = ..., current_weights: _Optional[_Union[_job_pb2.ScoringWeights, _Mapping]] = ..., weights: _Optional[_Union[_job_pb2.ScoringWeights, _Mapping]] = ..., evaluation: _Optional[_Union[WeightsEvaluation, _Mapping]] = ..., tried: _Optional[int] = ...) -> None: ...

class StartWeightsExperimentRequest(_message.Message):
    __slots__ = ["fraction", "product_id", "weights"]
    FRACTION_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    fraction: float
    product_id: str
    weights: _job_pb2.ScoringWeights
    def __init__(self, product_id: _Optional[str] = ..., weights: _Optional[_Union[_job_pb2.ScoringWeights, _Mapping]] = ..., fraction: _Optional[float] = ...) -> None: ...

class StartWeightsExperimentResponse(_message.Message):
    __slots__ = ["experiment"]
    EXPERIMENT_FIELD_NUMBER: _ClassVar[int]
    experiment: WeightsExperiment
    def __init__(self, experiment: _Optional[_Union[WeightsExperiment, _Mapping]] = ...) -> None: ...

class StopWeightsExperimentRequest(_message.Message):
    __slots__ = ["product_id"]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    def __init__(self, product_id: _Optional[str] = ...) -> None: ...

class StopWeightsExperimentResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class WeightsEvaluation(_message.Message):
    __slots__ = ["agreement", "cost", "decisions", "success_rate", "turnaround_ms", "unsupported"]
    AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_RATE_FIELD_NUMBER: _ClassVar[int]
    TURNAROUND_MS_FIELD_NUMBER: _ClassVar[int]
    UNSUPPORTED_FIELD_NUMBER: _ClassVar[int]
    agreement: float
    cost: MetricChange
    decisions: int
    success_rate: MetricChange
    turnaround_ms: MetricChange
    unsupported: int
    def __init__(self, decisions: _Optional[int] = ..., agreement: _Optional[float] = ..., unsupported: _Optional[int] = ..., success_rate: _Optional[_Union[MetricChange, _Mapping]] = ..., turnaround_ms: _Optional[_Union[MetricChange, _Mapping]] = ..., cost: _Optional[_Union[MetricChange, _Mapping]] = ...) -> None: ...

class WeightsExperiment(_message.Message):
    __slots__ = ["fraction", "start_time", "weights"]
    FRACTION_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    fraction: float
    start_time: _timestamp_pb2.Timestamp
    weights: _job_pb2.ScoringWeights
    def __init__(self, weights: _Optional[_Union[_job_pb2.ScoringWeights, _Mapping]] = ..., fraction: _Optional[float] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
