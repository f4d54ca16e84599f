from gigafactory.fleet.v1 import job_pb2 as _job_pb2
from gigafactory.fleet.v1 import job_artifacts_pb2 as _job_artifacts_pb2
from gigafactory.fleet.v1 import job_inputs_pb2 as _job_inputs_pb2
from gigafactory.fleet.v1 import log_pb2 as _log_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DAG_EDGE_KIND_CHILD: DagEdgeKind
DAG_EDGE_KIND_DEPENDS_ON: DagEdgeKind
DAG_EDGE_KIND_UNSPECIFIED: DagEdgeKind
DESCRIPTOR: _descriptor.FileDescriptor
JOB_ORDER_CREATE_TIME: JobOrder
JOB_ORDER_PRIORITY: JobOrder
JOB_ORDER_PRODUCT: JobOrder
JOB_ORDER_STAGE: JobOrder
JOB_ORDER_UNSPECIFIED: JobOrder

class AddChildrenRequest(_message.Message):
    __slots__ = ["children", "parent_id"]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    children: _containers.RepeatedCompositeFieldContainer[SubmitJobRequest]
    parent_id: str
    def __init__(self, parent_id: _Optional[str] = ..., children: _Optional[_Iterable[_Union[SubmitJobRequest, _Mapping]]] = ...) -> None: ...

class AddChildrenResponse(_message.Message):
    __slots__ = ["children", "parent"]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    children: _containers.RepeatedCompositeFieldContainer[_job_pb2.Job]
    parent: _job_pb2.Job
    def __init__(self, children: _Optional[_Iterable[_Union[_job_pb2.Job, _Mapping]]] = ..., parent: _Optional[_Union[_job_pb2.Job, _Mapping]] = ...) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ["job_id", "reason"]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    reason: str
    def __init__(self, job_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelJobResponse(_message.Message):
    __slots__ = ["job"]
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: _job_pb2.Job
    def __init__(self, job: _Optional[_Union[_job_pb2.Job, _Mapping]] = ...) -> None: ...

class DagEdge(_message.Message):
    __slots__ = ["from_job_id", "kind", "to_job_id"]
    FROM_JOB_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TO_JOB_ID_FIELD_NUMBER: _ClassVar[int]
    from_job_id: str
    kind: DagEdgeKind
    to_job_id: str
    def __init__(self, from_job_id: _Optional[str] = ..., to_job_id: _Optional[str] = ..., kind: _Optional[_Union[DagEdgeKind, str]] = ...) -> None: ...

class DagNode(_message.Message):
    __slots__ = ["job_id", "product_id", "reason", "stage", "title"]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    product_id: str
    reason: str
    stage: _job_pb2.JobStage
    title: str
    def __init__(self, job_id: _Optional[str] = ..., title: _Optional[str] = ..., stage: _Optional[_Union[_job_pb2.JobStage, str]] = ..., reason: _Optional[str] = ..., product_id: _Optional[str] = ...) -> None: ...

class ExplainScoreRequest(_message.Message):
    __slots__ = ["job_id"]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class ExplainScoreResponse(_message.Message):
    __slots__ = ["factories", "last_decision", "last_decision_factory_id", "not_before_time", "unplaceable_reason", "waiting_reasons", "weights"]
    FACTORIES_FIELD_NUMBER: _ClassVar[int]
    LAST_DECISION_FACTORY_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_DECISION_FIELD_NUMBER: _ClassVar[int]
    NOT_BEFORE_TIME_FIELD_NUMBER: _ClassVar[int]
    UNPLACEABLE_REASON_FIELD_NUMBER: _ClassVar[int]
    WAITING_REASONS_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    factories: _containers.RepeatedCompositeFieldContainer[FactoryExplanation]
    last_decision: _job_pb2.ScoreBreakdown
    last_decision_factory_id: str
    not_before_time: _timestamp_pb2.Timestamp
    unplaceable_reason: str
    waiting_reasons: _containers.RepeatedScalarFieldContainer[str]
    weights: _job_pb2.ScoringWeights
    def __init__(self, factories: _Optional[_Iterable[_Union[FactoryExplanation, _Mapping]]] = ..., weights: _Optional[_Union[_job_pb2.ScoringWeights, _Mapping]] = ..., unplaceable_reason: _Optional[str] = ..., last_decision: _Optional[_Union[_job_pb2.ScoreBreakdown, _Mapping]] = ..., last_decision_factory_id: _Optional[str] = ..., waiting_reasons: _Optional[_Iterable[str]] = ..., not_before_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FactoryExplanation(_message.Message):
    __slots__ = ["checks", "factory_id", "passed", "score"]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    FACTORY_ID_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    checks: _containers.RepeatedCompositeFieldContainer[FilterCheck]
    factory_id: str
    passed: bool
    score: _job_pb2.ScoreBreakdown
    def __init__(self, factory_id: _Optional[str] = ..., passed: bool = ..., checks: _Optional[_Iterable[_Union[FilterCheck, _Mapping]]] = ..., score: _Optional[_Union[_job_pb2.ScoreBreakdown, _Mapping]] = ...) -> None: ...

class FilterCheck(_message.Message):
    __slots__ = ["detail", "name", "passed"]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    detail: str
    name: str
    passed: bool
    def __init__(self, name: _Optional[str] = ..., passed: bool = ..., detail: _Optional[str] = ...) -> None: ...

class GetDagRequest(_message.Message):
    __slots__ = ["job_id"]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class GetDagResponse(_message.Message):
    __slots__ = ["edges", "nodes", "truncated"]
    EDGES_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    edges: _containers.RepeatedCompositeFieldContainer[DagEdge]
    nodes: _containers.RepeatedCompositeFieldContainer[DagNode]
    truncated: bool
    def __init__(self, nodes: _Optional[_Iterable[_Union[DagNode, _Mapping]]] = ..., edges: _Optional[_Iterable[_Union[DagEdge, _Mapping]]] = ..., truncated: bool = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ["job_id"]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class GetJobResponse(_message.Message):
    __slots__ = ["job"]
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: _job_pb2.Job
    def __init__(self, job: _Optional[_Union[_job_pb2.Job, _Mapping]] = ...) -> None: ...

class GetLogsRequest(_message.Message):
    __slots__ = ["after_epoch", "after_sequence", "job_id", "page_size"]
    AFTER_EPOCH_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    after_epoch: int
    after_sequence: int
    job_id: str
    page_size: int
    def __init__(self, job_id: _Optional[str] = ..., after_epoch: _Optional[int] = ..., after_sequence: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class GetLogsResponse(_message.Message):
    __slots__ = ["chunks", "more", "text"]
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    MORE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    chunks: _containers.RepeatedCompositeFieldContainer[_log_pb2.LogChunk]
    more: bool
    text: str
    def __init__(self, chunks: _Optional[_Iterable[_Union[_log_pb2.LogChunk, _Mapping]]] = ..., more: bool = ..., text: _Optional[str] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ["ascending", "label", "order_by", "page_size", "page_token", "product_id", "query", "stages"]
    ASCENDING_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    ascending: bool
    label: str
    order_by: JobOrder
    page_size: int
    page_token: str
    product_id: str
    query: str
    stages: _containers.RepeatedScalarFieldContainer[_job_pb2.JobStage]
    def __init__(self, product_id: _Optional[str] = ..., stages: _Optional[_Iterable[_Union[_job_pb2.JobStage, str]]] = ..., label: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., query: _Optional[str] = ..., order_by: _Optional[_Union[JobOrder, str]] = ..., ascending: bool = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ["jobs", "next_page_token"]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[_job_pb2.Job]
    next_page_token: str
    def __init__(self, jobs: _Optional[_Iterable[_Union[_job_pb2.Job, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RejectJobRequest(_message.Message):
    __slots__ = ["job_id", "reason"]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    reason: str
    def __init__(self, job_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RejectJobResponse(_message.Message):
    __slots__ = ["job"]
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: _job_pb2.Job
    def __init__(self, job: _Optional[_Union[_job_pb2.Job, _Mapping]] = ...) -> None: ...

class RequeueJobRequest(_message.Message):
    __slots__ = ["job_id", "reason"]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    reason: str
    def __init__(self, job_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RequeueJobResponse(_message.Message):
    __slots__ = ["job"]
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: _job_pb2.Job
    def __init__(self, job: _Optional[_Union[_job_pb2.Job, _Mapping]] = ...) -> None: ...

class ShipJobRequest(_message.Message):
    __slots__ = ["job_id", "reason"]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    reason: str
    def __init__(self, job_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ShipJobResponse(_message.Message):
    __slots__ = ["job"]
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: _job_pb2.Job
    def __init__(self, job: _Optional[_Union[_job_pb2.Job, _Mapping]] = ...) -> None: ...

class SubmitJobRequest(_message.Message):
    __slots__ = ["command", "complete_with_children", "concurrency_key", "concurrency_limit", "cost_ceiling", "delay", "depends_on", "depends_on_keys", "env", "estimated_cost", "idempotency_key", "inputs", "max_attempts", "on_dependency_failure", "priority", "product_id", "require_review", "required_approvals", "required_labels", "reviewers", "run_at", "timeout", "title", "weights"]
    class EnvEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_WITH_CHILDREN_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_LIMIT_FIELD_NUMBER: _ClassVar[int]
    COST_CEILING_FIELD_NUMBER: _ClassVar[int]
    DELAY_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_KEYS_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_COST_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    ON_DEPENDENCY_FAILURE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_APPROVALS_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_LABELS_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_REVIEW_FIELD_NUMBER: _ClassVar[int]
    REVIEWERS_FIELD_NUMBER: _ClassVar[int]
    RUN_AT_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    command: _containers.RepeatedScalarFieldContainer[str]
    complete_with_children: bool
    concurrency_key: str
    concurrency_limit: int
    cost_ceiling: float
    delay: _duration_pb2.Duration
    depends_on: _containers.RepeatedScalarFieldContainer[str]
    depends_on_keys: _containers.RepeatedScalarFieldContainer[str]
    env: _containers.ScalarMap[str, str]
    estimated_cost: float
    idempotency_key: str
    inputs: _containers.RepeatedCompositeFieldContainer[_job_inputs_pb2.JobInput]
    max_attempts: int
    on_dependency_failure: _job_pb2.DependencyFailurePolicy
    priority: int
    product_id: str
    require_review: bool
    required_approvals: int
    required_labels: _containers.RepeatedCompositeFieldContainer[_job_pb2.LabelRequirement]
    reviewers: _containers.RepeatedScalarFieldContainer[str]
    run_at: _timestamp_pb2.Timestamp
    timeout: _duration_pb2.Duration
    title: str
    weights: _job_pb2.ScoringWeights
    def __init__(self, product_id: _Optional[str] = ..., title: _Optional[str] = ..., command: _Optional[_Iterable[str]] = ..., env: _Optional[_Mapping[str, str]] = ..., required_labels: _Optional[_Iterable[_Union[_job_pb2.LabelRequirement, _Mapping]]] = ..., priority: _Optional[int] = ..., idempotency_key: _Optional[str] = ..., max_attempts: _Optional[int] = ..., timeout: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., weights: _Optional[_Union[_job_pb2.ScoringWeights, _Mapping]] = ..., depends_on: _Optional[_Iterable[str]] = ..., depends_on_keys: _Optional[_Iterable[str]] = ..., on_dependency_failure: _Optional[_Union[_job_pb2.DependencyFailurePolicy, str]] = ..., require_review: bool = ..., complete_with_children: bool = ..., estimated_cost: _Optional[float] = ..., cost_ceiling: _Optional[float] = ..., run_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., delay: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., concurrency_key: _Optional[str] = ..., concurrency_limit: _Optional[int] = ..., reviewers: _Optional[_Iterable[str]] = ..., required_approvals: _Optional[int] = ..., inputs: _Optional[_Iterable[_Union[_job_inputs_pb2.JobInput, _Mapping]]] = ...) -> None: ...

class SubmitJobResponse(_message.Message):
    __slots__ = ["created", "job"]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    created: bool
    job: _job_pb2.Job
    def __init__(self, job: _Optional[_Union[_job_pb2.Job, _Mapping]] = ..., created: bool = ...) -> None: ...

class SubmitJobsRequest(_message.Message):
    __slots__ = ["jobs"]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[SubmitJobRequest]
    def __init__(self, jobs: _Optional[_Iterable[_Union[SubmitJobRequest, _Mapping]]] = ...) -> None: ...

class SubmitJobsResponse(_message.Message):
    __slots__ = ["results"]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SubmitJobResponse]
    def __init__(self, results: _Optional[_Iterable[_Union[SubmitJobResponse, _Mapping]]] = ...) -> None: ...

class TailLogsRequest(_message.Message):
    __slots__ = ["after_epoch", "after_sequence", "follow", "job_id"]
    AFTER_EPOCH_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    after_epoch: int
    after_sequence: int
    follow: bool
    job_id: str
    def __init__(self, job_id: _Optional[str] = ..., follow: bool = ..., after_epoch: _Optional[int] = ..., after_sequence: _Optional[int] = ...) -> None: ...

class TailLogsResponse(_message.Message):
    __slots__ = ["chunk"]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    chunk: _log_pb2.LogChunk
    def __init__(self, chunk: _Optional[_Union[_log_pb2.LogChunk, _Mapping]] = ...) -> None: ...

class WatchJobsRequest(_message.Message):
    __slots__ = ["after_revision", "job_id", "product_id"]
    AFTER_REVISION_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    after_revision: int
    job_id: str
    product_id: str
    def __init__(self, product_id: _Optional[str] = ..., job_id: _Optional[str] = ..., after_revision: _Optional[int] = ...) -> None: ...

class WatchJobsResponse(_message.Message):
    __slots__ = ["event"]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _job_pb2.JobEvent
    def __init__(self, event: _Optional[_Union[_job_pb2.JobEvent, _Mapping]] = ...) -> None: ...

class JobOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class DagEdgeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
