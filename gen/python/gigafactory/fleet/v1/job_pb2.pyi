from gigafactory.fleet.v1 import job_inputs_pb2 as _job_inputs_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

ATTEMPT_OUTCOME_CANCELLED: AttemptOutcome
ATTEMPT_OUTCOME_FAILED: AttemptOutcome
ATTEMPT_OUTCOME_LEASE_EXPIRED: AttemptOutcome
ATTEMPT_OUTCOME_PREEMPTED: AttemptOutcome
ATTEMPT_OUTCOME_RELEASED: AttemptOutcome
ATTEMPT_OUTCOME_SUCCEEDED: AttemptOutcome
ATTEMPT_OUTCOME_TIMED_OUT: AttemptOutcome
ATTEMPT_OUTCOME_UNSPECIFIED: AttemptOutcome
DEPENDENCY_FAILURE_POLICY_CANCEL_DEPENDENTS: DependencyFailurePolicy
DEPENDENCY_FAILURE_POLICY_LEAVE_BLOCKED: DependencyFailurePolicy
DEPENDENCY_FAILURE_POLICY_UNSPECIFIED: DependencyFailurePolicy
DESCRIPTOR: _descriptor.FileDescriptor
JOB_STAGE_AWAITING_REVIEW: JobStage
JOB_STAGE_BLOCKED: JobStage
JOB_STAGE_CANCELLED: JobStage
JOB_STAGE_DEAD: JobStage
JOB_STAGE_FAILED: JobStage
JOB_STAGE_LEASED: JobStage
JOB_STAGE_QUEUED: JobStage
JOB_STAGE_REJECTED: JobStage
JOB_STAGE_RUNNING: JobStage
JOB_STAGE_SHIPPED: JobStage
JOB_STAGE_SUCCEEDED: JobStage
JOB_STAGE_UNSPECIFIED: JobStage
LABEL_OPERATOR_EQUALS: LabelOperator
LABEL_OPERATOR_EXISTS: LabelOperator
LABEL_OPERATOR_GREATER_OR_EQUAL: LabelOperator
LABEL_OPERATOR_IN: LabelOperator
LABEL_OPERATOR_LESS_OR_EQUAL: LabelOperator
LABEL_OPERATOR_NOT_EXISTS: LabelOperator
LABEL_OPERATOR_NOT_IN: LabelOperator
LABEL_OPERATOR_UNSPECIFIED: LabelOperator

class Attempt(_message.Message):
    __slots__ = ["cost", "decision", "end_time", "epoch", "exit_code", "factory_id", "message", "offer_time", "outcome", "start_time"]
    COST_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    FACTORY_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    OFFER_TIME_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    cost: float
    decision: ScoreBreakdown
    end_time: _timestamp_pb2.Timestamp
    epoch: int
    exit_code: int
    factory_id: str
    message: str
    offer_time: _timestamp_pb2.Timestamp
    outcome: AttemptOutcome
    start_time: _timestamp_pb2.Timestamp
    def __init__(self, epoch: _Optional[int] = ..., factory_id: _Optional[str] = ..., offer_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., outcome: _Optional[_Union[AttemptOutcome, str]] = ..., exit_code: _Optional[int] = ..., message: _Optional[str] = ..., decision: _Optional[_Union[ScoreBreakdown, _Mapping]] = ..., cost: _Optional[float] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ["attempt_count", "attempts", "cancel_request_time", "children", "command", "complete_with_children", "concurrency_key", "concurrency_limit", "cost", "cost_ceiling", "create_time", "dependents", "depends_on", "end_time", "env", "epoch", "estimated_cost", "exit_code", "external_id", "external_labels", "external_url", "id", "idempotency_key", "inputs", "lease", "max_attempts", "not_before_time", "on_dependency_failure", "parent_id", "preemption_streak", "priority", "product_id", "reason", "require_review", "required_labels", "result", "review", "revision", "run_at", "schedule_id", "stage", "start_time", "timeout", "title", "update_time"]
    class EnvEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class ExternalLabelsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_COUNT_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REQUEST_TIME_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_WITH_CHILDREN_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_LIMIT_FIELD_NUMBER: _ClassVar[int]
    COST_CEILING_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DEPENDENTS_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_COST_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_LABELS_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_URL_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    NOT_BEFORE_TIME_FIELD_NUMBER: _ClassVar[int]
    ON_DEPENDENCY_FAILURE_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    PREEMPTION_STREAK_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_LABELS_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_REVIEW_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    REVIEW_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    RUN_AT_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    attempt_count: int
    attempts: _containers.RepeatedCompositeFieldContainer[Attempt]
    cancel_request_time: _timestamp_pb2.Timestamp
    children: _containers.RepeatedScalarFieldContainer[str]
    command: _containers.RepeatedScalarFieldContainer[str]
    complete_with_children: bool
    concurrency_key: str
    concurrency_limit: int
    cost: float
    cost_ceiling: float
    create_time: _timestamp_pb2.Timestamp
    dependents: _containers.RepeatedScalarFieldContainer[str]
    depends_on: _containers.RepeatedScalarFieldContainer[str]
    end_time: _timestamp_pb2.Timestamp
    env: _containers.ScalarMap[str, str]
    epoch: int
    estimated_cost: float
    exit_code: int
    external_id: str
    external_labels: _containers.ScalarMap[str, str]
    external_url: str
    id: str
    idempotency_key: str
    inputs: _containers.RepeatedCompositeFieldContainer[_job_inputs_pb2.JobInput]
    lease: Lease
    max_attempts: int
    not_before_time: _timestamp_pb2.Timestamp
    on_dependency_failure: DependencyFailurePolicy
    parent_id: str
    preemption_streak: int
    priority: int
    product_id: str
    reason: str
    require_review: bool
    required_labels: _containers.RepeatedCompositeFieldContainer[LabelRequirement]
    result: str
    review: JobReview
    revision: int
    run_at: _timestamp_pb2.Timestamp
    schedule_id: str
    stage: JobStage
    start_time: _timestamp_pb2.Timestamp
    timeout: _duration_pb2.Duration
    title: str
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., product_id: _Optional[str] = ..., title: _Optional[str] = ..., command: _Optional[_Iterable[str]] = ..., env: _Optional[_Mapping[str, str]] = ..., required_labels: _Optional[_Iterable[_Union[LabelRequirement, _Mapping]]] = ..., priority: _Optional[int] = ..., idempotency_key: _Optional[str] = ..., max_attempts: _Optional[int] = ..., timeout: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., stage: _Optional[_Union[JobStage, str]] = ..., epoch: _Optional[int] = ..., attempt_count: _Optional[int] = ..., attempts: _Optional[_Iterable[_Union[Attempt, _Mapping]]] = ..., lease: _Optional[_Union[Lease, _Mapping]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., not_before_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., exit_code: _Optional[int] = ..., result: _Optional[str] = ..., cancel_request_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., revision: _Optional[int] = ..., reason: _Optional[str] = ..., preemption_streak: _Optional[int] = ..., depends_on: _Optional[_Iterable[str]] = ..., dependents: _Optional[_Iterable[str]] = ..., parent_id: _Optional[str] = ..., children: _Optional[_Iterable[str]] = ..., require_review: bool = ..., complete_with_children: bool = ..., on_dependency_failure: _Optional[_Union[DependencyFailurePolicy, str]] = ..., estimated_cost: _Optional[float] = ..., cost: _Optional[float] = ..., external_id: _Optional[str] = ..., external_url: _Optional[str] = ..., external_labels: _Optional[_Mapping[str, str]] = ..., cost_ceiling: _Optional[float] = ..., run_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., concurrency_key: _Optional[str] = ..., concurrency_limit: _Optional[int] = ..., schedule_id: _Optional[str] = ..., review: _Optional[_Union[JobReview, _Mapping]] = ..., inputs: _Optional[_Iterable[_Union[_job_inputs_pb2.JobInput, _Mapping]]] = ...) -> None: ...

class JobEvent(_message.Message):
    __slots__ = ["actor", "epoch", "from_stage", "job", "job_id", "kind", "message", "revision", "time", "to_stage"]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    FROM_STAGE_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    TO_STAGE_FIELD_NUMBER: _ClassVar[int]
    actor: str
    epoch: int
    from_stage: JobStage
    job: Job
    job_id: str
    kind: str
    message: str
    revision: int
    time: _timestamp_pb2.Timestamp
    to_stage: JobStage
    def __init__(self, job_id: _Optional[str] = ..., revision: _Optional[int] = ..., epoch: _Optional[int] = ..., from_stage: _Optional[_Union[JobStage, str]] = ..., to_stage: _Optional[_Union[JobStage, str]] = ..., kind: _Optional[str] = ..., actor: _Optional[str] = ..., message: _Optional[str] = ..., time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class JobReview(_message.Message):
    __slots__ = ["approvals", "eligible_reviewers", "pending_reviewers", "required_approvals", "reviewers", "self_approval_allowed", "submitted_by", "summary"]
    APPROVALS_FIELD_NUMBER: _ClassVar[int]
    ELIGIBLE_REVIEWERS_FIELD_NUMBER: _ClassVar[int]
    PENDING_REVIEWERS_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_APPROVALS_FIELD_NUMBER: _ClassVar[int]
    REVIEWERS_FIELD_NUMBER: _ClassVar[int]
    SELF_APPROVAL_ALLOWED_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_BY_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    approvals: _containers.RepeatedCompositeFieldContainer[ReviewApproval]
    eligible_reviewers: _containers.RepeatedScalarFieldContainer[str]
    pending_reviewers: _containers.RepeatedScalarFieldContainer[str]
    required_approvals: int
    reviewers: _containers.RepeatedScalarFieldContainer[str]
    self_approval_allowed: bool
    submitted_by: str
    summary: str
    def __init__(self, reviewers: _Optional[_Iterable[str]] = ..., eligible_reviewers: _Optional[_Iterable[str]] = ..., required_approvals: _Optional[int] = ..., approvals: _Optional[_Iterable[_Union[ReviewApproval, _Mapping]]] = ..., pending_reviewers: _Optional[_Iterable[str]] = ..., submitted_by: _Optional[str] = ..., self_approval_allowed: bool = ..., summary: _Optional[str] = ...) -> None: ...

class LabelRequirement(_message.Message):
    __slots__ = ["key", "operator", "values"]
    KEY_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    key: str
    operator: LabelOperator
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, key: _Optional[str] = ..., operator: _Optional[_Union[LabelOperator, str]] = ..., values: _Optional[_Iterable[str]] = ...) -> None: ...

class Lease(_message.Message):
    __slots__ = ["epoch", "expire_time", "factory_id"]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    FACTORY_ID_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    expire_time: _timestamp_pb2.Timestamp
    factory_id: str
    def __init__(self, factory_id: _Optional[str] = ..., epoch: _Optional[int] = ..., expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReviewApproval(_message.Message):
    __slots__ = ["note", "reviewer", "time"]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    REVIEWER_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    note: str
    reviewer: str
    time: _timestamp_pb2.Timestamp
    def __init__(self, reviewer: _Optional[str] = ..., time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., note: _Optional[str] = ...) -> None: ...

class ScoreBreakdown(_message.Message):
    __slots__ = ["affinity", "aging", "cost_class", "fair_share", "load", "priority", "total"]
    AFFINITY_FIELD_NUMBER: _ClassVar[int]
    AGING_FIELD_NUMBER: _ClassVar[int]
    COST_CLASS_FIELD_NUMBER: _ClassVar[int]
    FAIR_SHARE_FIELD_NUMBER: _ClassVar[int]
    LOAD_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    affinity: float
    aging: float
    cost_class: float
    fair_share: float
    load: float
    priority: float
    total: float
    def __init__(self, total: _Optional[float] = ..., priority: _Optional[float] = ..., aging: _Optional[float] = ..., affinity: _Optional[float] = ..., load: _Optional[float] = ..., fair_share: _Optional[float] = ..., cost_class: _Optional[float] = ...) -> None: ...

class ScoringWeights(_message.Message):
    __slots__ = ["affinity", "aging", "cost_class", "fair_share", "load", "priority"]
    AFFINITY_FIELD_NUMBER: _ClassVar[int]
    AGING_FIELD_NUMBER: _ClassVar[int]
    COST_CLASS_FIELD_NUMBER: _ClassVar[int]
    FAIR_SHARE_FIELD_NUMBER: _ClassVar[int]
    LOAD_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    affinity: float
    aging: float
    cost_class: float
    fair_share: float
    load: float
    priority: float
    def __init__(self, priority: _Optional[float] = ..., aging: _Optional[float] = ..., affinity: _Optional[float] = ..., load: _Optional[float] = ..., fair_share: _Optional[float] = ..., cost_class: _Optional[float] = ...) -> None: ...

class JobStage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class DependencyFailurePolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class LabelOperator(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class AttemptOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
