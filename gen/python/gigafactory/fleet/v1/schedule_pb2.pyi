from gigafactory.fleet.v1 import job_service_pb2 as _job_service_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
SCHEDULE_CATCH_UP_POLICY_RUN_ALL: ScheduleCatchUpPolicy
SCHEDULE_CATCH_UP_POLICY_RUN_ONCE: ScheduleCatchUpPolicy
SCHEDULE_CATCH_UP_POLICY_SKIP_MISSED: ScheduleCatchUpPolicy
SCHEDULE_CATCH_UP_POLICY_UNSPECIFIED: ScheduleCatchUpPolicy
SCHEDULE_OVERLAP_POLICY_ALLOW: ScheduleOverlapPolicy
SCHEDULE_OVERLAP_POLICY_CANCEL_RUNNING: ScheduleOverlapPolicy
SCHEDULE_OVERLAP_POLICY_QUEUE_ONE: ScheduleOverlapPolicy
SCHEDULE_OVERLAP_POLICY_SKIP: ScheduleOverlapPolicy
SCHEDULE_OVERLAP_POLICY_UNSPECIFIED: ScheduleOverlapPolicy

class Schedule(_message.Message):
    __slots__ = ["catch_up_limit", "catch_up_policy", "create_time", "created_by", "cron", "last_job_id", "last_slot_time", "name", "next_fire_time", "overlap_policy", "paused", "pending_slot_time", "reason", "revision", "schedule_id", "template", "time_zone", "update_time"]
    CATCH_UP_LIMIT_FIELD_NUMBER: _ClassVar[int]
    CATCH_UP_POLICY_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CRON_FIELD_NUMBER: _ClassVar[int]
    LAST_JOB_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_SLOT_TIME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NEXT_FIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    OVERLAP_POLICY_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    PENDING_SLOT_TIME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    catch_up_limit: int
    catch_up_policy: ScheduleCatchUpPolicy
    create_time: _timestamp_pb2.Timestamp
    created_by: str
    cron: str
    last_job_id: str
    last_slot_time: _timestamp_pb2.Timestamp
    name: str
    next_fire_time: _timestamp_pb2.Timestamp
    overlap_policy: ScheduleOverlapPolicy
    paused: bool
    pending_slot_time: _timestamp_pb2.Timestamp
    reason: str
    revision: int
    schedule_id: str
    template: _job_service_pb2.SubmitJobRequest
    time_zone: str
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, schedule_id: _Optional[str] = ..., name: _Optional[str] = ..., template: _Optional[_Union[_job_service_pb2.SubmitJobRequest, _Mapping]] = ..., cron: _Optional[str] = ..., time_zone: _Optional[str] = ..., overlap_policy: _Optional[_Union[ScheduleOverlapPolicy, str]] = ..., catch_up_policy: _Optional[_Union[ScheduleCatchUpPolicy, str]] = ..., catch_up_limit: _Optional[int] = ..., paused: bool = ..., next_fire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., last_slot_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., last_job_id: _Optional[str] = ..., pending_slot_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., created_by: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...

class ScheduleOverlapPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ScheduleCatchUpPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
