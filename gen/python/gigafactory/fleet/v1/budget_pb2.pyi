from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

BUDGET_PERIOD_DAY: BudgetPeriod
BUDGET_PERIOD_MONTH: BudgetPeriod
BUDGET_PERIOD_UNSPECIFIED: BudgetPeriod
BUDGET_PERIOD_WEEK: BudgetPeriod
BUDGET_STATE_EXHAUSTED: BudgetState
BUDGET_STATE_OK: BudgetState
BUDGET_STATE_PAUSED: BudgetState
BUDGET_STATE_UNSPECIFIED: BudgetState
DESCRIPTOR: _descriptor.FileDescriptor

class Budget(_message.Message):
    __slots__ = ["cost_limit", "daily_spend", "job_cost_ceiling", "job_spend", "job_wall_clock_limit", "pause_actor", "pause_reason", "pause_time", "paused", "period", "period_end_time", "period_start_time", "product_id", "reserved", "revision", "spent", "state", "state_reason", "stop_running_when_exhausted", "update_actor", "update_time"]
    COST_LIMIT_FIELD_NUMBER: _ClassVar[int]
    DAILY_SPEND_FIELD_NUMBER: _ClassVar[int]
    JOB_COST_CEILING_FIELD_NUMBER: _ClassVar[int]
    JOB_SPEND_FIELD_NUMBER: _ClassVar[int]
    JOB_WALL_CLOCK_LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    PAUSE_ACTOR_FIELD_NUMBER: _ClassVar[int]
    PAUSE_REASON_FIELD_NUMBER: _ClassVar[int]
    PAUSE_TIME_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_TIME_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_TIME_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    RESERVED_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SPENT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_REASON_FIELD_NUMBER: _ClassVar[int]
    STOP_RUNNING_WHEN_EXHAUSTED_FIELD_NUMBER: _ClassVar[int]
    UPDATE_ACTOR_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    cost_limit: float
    daily_spend: _containers.RepeatedCompositeFieldContainer[BudgetDay]
    job_cost_ceiling: float
    job_spend: _containers.RepeatedCompositeFieldContainer[BudgetJobSpend]
    job_wall_clock_limit: _duration_pb2.Duration
    pause_actor: str
    pause_reason: str
    pause_time: _timestamp_pb2.Timestamp
    paused: bool
    period: BudgetPeriod
    period_end_time: _timestamp_pb2.Timestamp
    period_start_time: _timestamp_pb2.Timestamp
    product_id: str
    reserved: float
    revision: int
    spent: float
    state: BudgetState
    state_reason: str
    stop_running_when_exhausted: bool
    update_actor: str
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, product_id: _Optional[str] = ..., cost_limit: _Optional[float] = ..., period: _Optional[_Union[BudgetPeriod, str]] = ..., job_wall_clock_limit: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., paused: bool = ..., pause_reason: _Optional[str] = ..., pause_actor: _Optional[str] = ..., pause_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., state: _Optional[_Union[BudgetState, str]] = ..., state_reason: _Optional[str] = ..., spent: _Optional[float] = ..., reserved: _Optional[float] = ..., period_start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., period_end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., daily_spend: _Optional[_Iterable[_Union[BudgetDay, _Mapping]]] = ..., job_spend: _Optional[_Iterable[_Union[BudgetJobSpend, _Mapping]]] = ..., revision: _Optional[int] = ..., update_actor: _Optional[str] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., job_cost_ceiling: _Optional[float] = ..., stop_running_when_exhausted: bool = ...) -> None: ...

class BudgetDay(_message.Message):
    __slots__ = ["cost", "date", "job_count"]
    COST_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    JOB_COUNT_FIELD_NUMBER: _ClassVar[int]
    cost: float
    date: str
    job_count: int
    def __init__(self, date: _Optional[str] = ..., cost: _Optional[float] = ..., job_count: _Optional[int] = ...) -> None: ...

class BudgetJobSpend(_message.Message):
    __slots__ = ["cost", "job_id", "title"]
    COST_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    cost: float
    job_id: str
    title: str
    def __init__(self, job_id: _Optional[str] = ..., title: _Optional[str] = ..., cost: _Optional[float] = ...) -> None: ...

class GetBudgetRequest(_message.Message):
    __slots__ = ["product_id"]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    def __init__(self, product_id: _Optional[str] = ...) -> None: ...

class GetBudgetResponse(_message.Message):
    __slots__ = ["budget"]
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    budget: Budget
    def __init__(self, budget: _Optional[_Union[Budget, _Mapping]] = ...) -> None: ...

class ListBudgetsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListBudgetsResponse(_message.Message):
    __slots__ = ["budgets"]
    BUDGETS_FIELD_NUMBER: _ClassVar[int]
    budgets: _containers.RepeatedCompositeFieldContainer[Budget]
    def __init__(self, budgets: _Optional[_Iterable[_Union[Budget, _Mapping]]] = ...) -> None: ...

class PauseBudgetRequest(_message.Message):
    __slots__ = ["product_id", "reason"]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    reason: str
    def __init__(self, product_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class PauseBudgetResponse(_message.Message):
    __slots__ = ["budget"]
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    budget: Budget
    def __init__(self, budget: _Optional[_Union[Budget, _Mapping]] = ...) -> None: ...

class ResumeBudgetRequest(_message.Message):
    __slots__ = ["product_id"]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    def __init__(self, product_id: _Optional[str] = ...) -> None: ...

class ResumeBudgetResponse(_message.Message):
    __slots__ = ["budget"]
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    budget: Budget
    def __init__(self, budget: _Optional[_Union[Budget, _Mapping]] = ...) -> None: ...

class SetBudgetRequest(_message.Message):
    __slots__ = ["cost_limit", "job_cost_ceiling", "job_wall_clock_limit", "period", "product_id", "stop_running_when_exhausted"]
    COST_LIMIT_FIELD_NUMBER: _ClassVar[int]
    JOB_COST_CEILING_FIELD_NUMBER: _ClassVar[int]
    JOB_WALL_CLOCK_LIMIT_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    STOP_RUNNING_WHEN_EXHAUSTED_FIELD_NUMBER: _ClassVar[int]
    cost_limit: float
    job_cost_ceiling: float
    job_wall_clock_limit: _duration_pb2.Duration
    period: BudgetPeriod
    product_id: str
    stop_running_when_exhausted: bool
    def __init__(self, product_id: _Optional[str] = ..., cost_limit: _Optional[float] = ..., period: _Optional[_Union[BudgetPeriod, str]] = ..., job_wall_clock_limit: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., job_cost_ceiling: _Optional[float] = ..., stop_running_when_exhausted: bool = ...) -> None: ...

class SetBudgetResponse(_message.Message):
    __slots__ = ["budget"]
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    budget: Budget
    def __init__(self, budget: _Optional[_Union[Budget, _Mapping]] = ...) -> None: ...

class BudgetPeriod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class BudgetState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
