from gigafactory.fleet.v1 import credentials_pb2 as _credentials_pb2
from gigafactory.fleet.v1 import factory_artifacts_pb2 as _factory_artifacts_pb2
from gigafactory.fleet.v1 import job_pb2 as _job_pb2
from gigafactory.fleet.v1 import log_pb2 as _log_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
GOODBYE_REASON_DRAINED: GoodbyeReason
GOODBYE_REASON_HEARTBEAT_TIMEOUT: GoodbyeReason
GOODBYE_REASON_MAX_AGE: GoodbyeReason
GOODBYE_REASON_REPLACED: GoodbyeReason
GOODBYE_REASON_REVOKED: GoodbyeReason
GOODBYE_REASON_SHUTDOWN: GoodbyeReason
GOODBYE_REASON_UNSPECIFIED: GoodbyeReason

class CancelNotice(_message.Message):
    __slots__ = ["epoch", "grace_period", "job_id", "reason"]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    GRACE_PERIOD_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    grace_period: _duration_pb2.Duration
    job_id: str
    reason: str
    def __init__(self, job_id: _Optional[str] = ..., epoch: _Optional[int] = ..., grace_period: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class ConnectRequest(_message.Message):
    __slots__ = ["cost_report", "drain", "heartbeat", "hello", "job_result", "lease_accept", "lease_decline", "lease_return", "log_chunk", "preemption_ack"]
    COST_REPORT_FIELD_NUMBER: _ClassVar[int]
    DRAIN_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    HELLO_FIELD_NUMBER: _ClassVar[int]
    JOB_RESULT_FIELD_NUMBER: _ClassVar[int]
    LEASE_ACCEPT_FIELD_NUMBER: _ClassVar[int]
    LEASE_DECLINE_FIELD_NUMBER: _ClassVar[int]
    LEASE_RETURN_FIELD_NUMBER: _ClassVar[int]
    LOG_CHUNK_FIELD_NUMBER: _ClassVar[int]
    PREEMPTION_ACK_FIELD_NUMBER: _ClassVar[int]
    cost_report: CostReport
    drain: Drain
    heartbeat: Heartbeat
    hello: Hello
    job_result: JobResult
    lease_accept: LeaseAccept
    lease_decline: LeaseDecline
    lease_return: LeaseReturn
    log_chunk: _log_pb2.LogChunk
    preemption_ack: PreemptionAck
    def __init__(self, hello: _Optional[_Union[Hello, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., lease_accept: _Optional[_Union[LeaseAccept, _Mapping]] = ..., lease_decline: _Optional[_Union[LeaseDecline, _Mapping]] = ..., log_chunk: _Optional[_Union[_log_pb2.LogChunk, _Mapping]] = ..., job_result: _Optional[_Union[JobResult, _Mapping]] = ..., preemption_ack: _Optional[_Union[PreemptionAck, _Mapping]] = ..., drain: _Optional[_Union[Drain, _Mapping]] = ..., lease_return: _Optional[_Union[LeaseReturn, _Mapping]] = ..., cost_report: _Optional[_Union[CostReport, _Mapping]] = ...) -> None: ...

class ConnectResponse(_message.Message):
    __slots__ = ["cancel", "goodbye", "heartbeat_ack", "lease_offer", "lease_revoked", "preemption_notice", "result_ack", "token_rotated", "welcome"]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    GOODBYE_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_ACK_FIELD_NUMBER: _ClassVar[int]
    LEASE_OFFER_FIELD_NUMBER: _ClassVar[int]
    LEASE_REVOKED_FIELD_NUMBER: _ClassVar[int]
    PREEMPTION_NOTICE_FIELD_NUMBER: _ClassVar[int]
    RESULT_ACK_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ROTATED_FIELD_NUMBER: _ClassVar[int]
    WELCOME_FIELD_NUMBER: _ClassVar[int]
    cancel: CancelNotice
    goodbye: Goodbye
    heartbeat_ack: HeartbeatAck
    lease_offer: LeaseOffer
    lease_revoked: LeaseRevoked
    preemption_notice: PreemptionNotice
    result_ack: ResultAck
    token_rotated: TokenRotated
    welcome: Welcome
    def __init__(self, welcome: _Optional[_Union[Welcome, _Mapping]] = ..., lease_offer: _Optional[_Union[LeaseOffer, _Mapping]] = ..., heartbeat_ack: _Optional[_Union[HeartbeatAck, _Mapping]] = ..., preemption_notice: _Optional[_Union[PreemptionNotice, _Mapping]] = ..., cancel: _Optional[_Union[CancelNotice, _Mapping]] = ..., lease_revoked: _Optional[_Union[LeaseRevoked, _Mapping]] = ..., result_ack: _Optional[_Union[ResultAck, _Mapping]] = ..., goodbye: _Optional[_Union[Goodbye, _Mapping]] = ..., token_rotated: _Optional[_Union[TokenRotated, _Mapping]] = ...) -> None: ...

class CostReport(_message.Message):
    __slots__ = ["epoch", "job_id", "total_cost"]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    job_id: str
    total_cost: float
    def __init__(self, job_id: _Optional[str] = ..., epoch: _Optional[int] = ..., total_cost: _Optional[float] = ...) -> None: ...

class Drain(_message.Message):
    __slots__ = ["reason"]
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class EnrollRequest(_message.Message):
    __slots__ = ["factory_id"]
    FACTORY_ID_FIELD_NUMBER: _ClassVar[int]
    factory_id: str
    def __init__(self, factory_id: _Optional[str] = ...) -> None: ...

class EnrollResponse(_message.Message):
    __slots__ = ["allowed_labels", "allowed_products", "factory_id", "factory_token"]
    ALLOWED_LABELS_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_PRODUCTS_FIELD_NUMBER: _ClassVar[int]
    FACTORY_ID_FIELD_NUMBER: _ClassVar[int]
    FACTORY_TOKEN_FIELD_NUMBER: _ClassVar[int]
    allowed_labels: _containers.RepeatedCompositeFieldContainer[_credentials_pb2.LabelGrant]
    allowed_products: _containers.RepeatedScalarFieldContainer[str]
    factory_id: str
    factory_token: str
    def __init__(self, factory_id: _Optional[str] = ..., factory_token: _Optional[str] = ..., allowed_labels: _Optional[_Iterable[_Union[_credentials_pb2.LabelGrant, _Mapping]]] = ..., allowed_products: _Optional[_Iterable[str]] = ...) -> None: ...

class Goodbye(_message.Message):
    __slots__ = ["message", "reason", "retry_time"]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RETRY_TIME_FIELD_NUMBER: _ClassVar[int]
    message: str
    reason: GoodbyeReason
    retry_time: _timestamp_pb2.Timestamp
    def __init__(self, reason: _Optional[_Union[GoodbyeReason, str]] = ..., message: _Optional[str] = ..., retry_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ["running_jobs", "sequence"]
    RUNNING_JOBS_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    running_jobs: _containers.RepeatedCompositeFieldContainer[JobRef]
    sequence: int
    def __init__(self, sequence: _Optional[int] = ..., running_jobs: _Optional[_Iterable[_Union[JobRef, _Mapping]]] = ...) -> None: ...

class HeartbeatAck(_message.Message):
    __slots__ = ["extensions", "sequence"]
    EXTENSIONS_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    extensions: _containers.RepeatedCompositeFieldContainer[LeaseExtension]
    sequence: int
    def __init__(self, sequence: _Optional[int] = ..., extensions: _Optional[_Iterable[_Union[LeaseExtension, _Mapping]]] = ...) -> None: ...

class Hello(_message.Message):
    __slots__ = ["agent_version", "factory_id", "labels", "running_jobs", "slots"]
    class LabelsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    AGENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    FACTORY_ID_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    RUNNING_JOBS_FIELD_NUMBER: _ClassVar[int]
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    agent_version: str
    factory_id: str
    labels: _containers.ScalarMap[str, str]
    running_jobs: _containers.RepeatedCompositeFieldContainer[JobRef]
    slots: int
    def __init__(self, factory_id: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., slots: _Optional[int] = ..., agent_version: _Optional[str] = ..., running_jobs: _Optional[_Iterable[_Union[JobRef, _Mapping]]] = ...) -> None: ...

class JobRef(_message.Message):
    __slots__ = ["epoch", "job_id"]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    job_id: str
    def __init__(self, job_id: _Optional[str] = ..., epoch: _Optional[int] = ...) -> None: ...

class JobResult(_message.Message):
    __slots__ = ["cost", "epoch", "exit_code", "job_id", "log_chunk_count", "message", "outcome"]
    COST_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    LOG_CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    cost: float
    epoch: int
    exit_code: int
    job_id: str
    log_chunk_count: int
    message: str
    outcome: _job_pb2.AttemptOutcome
    def __init__(self, job_id: _Optional[str] = ..., epoch: _Optional[int] = ..., outcome: _Optional[_Union[_job_pb2.AttemptOutcome, str]] = ..., exit_code: _Optional[int] = ..., message: _Optional[str] = ..., log_chunk_count: _Optional[int] = ..., cost: _Optional[float] = ...) -> None: ...

class LeaseAccept(_message.Message):
    __slots__ = ["epoch", "job_id"]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    job_id: str
    def __init__(self, job_id: _Optional[str] = ..., epoch: _Optional[int] = ...) -> None: ...

class LeaseDecline(_message.Message):
    __slots__ = ["epoch", "job_id", "reason"]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    job_id: str
    reason: str
    def __init__(self, job_id: _Optional[str] = ..., epoch: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class LeaseExtension(_message.Message):
    __slots__ = ["epoch", "expire_time", "job_id"]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    expire_time: _timestamp_pb2.Timestamp
    job_id: str
    def __init__(self, job_id: _Optional[str] = ..., epoch: _Optional[int] = ..., expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class LeaseOffer(_message.Message):
    __slots__ = ["epoch", "job", "job_id", "lease_token", "offer_expire_time"]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OFFER_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    job: _job_pb2.Job
    job_id: str
    lease_token: str
    offer_expire_time: _timestamp_pb2.Timestamp
    def __init__(self, job_id: _Optional[str] = ..., epoch: _Optional[int] = ..., job: _Optional[_Union[_job_pb2.Job, _Mapping]] = ..., offer_expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., lease_token: _Optional[str] = ...) -> None: ...

class LeaseReturn(_message.Message):
    __slots__ = ["epoch", "job_id", "reason"]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    job_id: str
    reason: str
    def __init__(self, job_id: _Optional[str] = ..., epoch: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class LeaseRevoked(_message.Message):
    __slots__ = ["epoch", "job_id", "reason"]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    job_id: str
    reason: str
    def __init__(self, job_id: _Optional[str] = ..., epoch: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class PreemptionAck(_message.Message):
    __slots__ = ["checkpoint", "epoch", "job_id"]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    checkpoint: str
    epoch: int
    job_id: str
    def __init__(self, job_id: _Optional[str] = ..., epoch: _Optional[int] = ..., checkpoint: _Optional[str] = ...) -> None: ...

class PreemptionNotice(_message.Message):
    __slots__ = ["epoch", "grace_period", "job_id", "reason"]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    GRACE_PERIOD_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    grace_period: _duration_pb2.Duration
    job_id: str
    reason: str
    def __init__(self, job_id: _Optional[str] = ..., epoch: _Optional[int] = ..., grace_period: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class ResultAck(_message.Message):
    __slots__ = ["epoch", "job_id"]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    job_id: str
    def __init__(self, job_id: _Optional[str] = ..., epoch: _Optional[int] = ...) -> None: ...

class TokenRotated(_message.Message):
    __slots__ = ["factory_token", "previous_token_expire_time"]
    FACTORY_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_TOKEN_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    factory_token: str
    previous_token_expire_time: _timestamp_pb2.Timestamp
    def __init__(self, factory_token: _Optional[str] = ..., previous_token_expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Welcome(_message.Message):
    __slots__ = ["heartbeat_interval", "kept_leases", "lease_ttl", "session_id"]
    HEARTBEAT_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    KEPT_LEASES_FIELD_NUMBER: _ClassVar[int]
    LEASE_TTL_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    heartbeat_interval: _duration_pb2.Duration
    kept_leases: _containers.RepeatedCompositeFieldContainer[JobRef]
    lease_ttl: _duration_pb2.Duration
    session_id: str
    def __init__(self, session_id: _Optional[str] = ..., heartbeat_interval: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., lease_ttl: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., kept_leases: _Optional[_Iterable[_Union[JobRef, _Mapping]]] = ...) -> None: ...

class GoodbyeReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
