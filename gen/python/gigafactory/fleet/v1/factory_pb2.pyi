from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

AGENT_SUPPORT_OUTDATED: AgentSupport
AGENT_SUPPORT_SUPPORTED: AgentSupport
AGENT_SUPPORT_UNKNOWN: AgentSupport
AGENT_SUPPORT_UNSPECIFIED: AgentSupport
DESCRIPTOR: _descriptor.FileDescriptor
FACTORY_STATE_CONNECTED: FactoryState
FACTORY_STATE_DISCONNECTED: FactoryState
FACTORY_STATE_DRAINING: FactoryState
FACTORY_STATE_UNSPECIFIED: FactoryState

class Factory(_message.Message):
    __slots__ = ["agent_support", "agent_version", "connect_time", "free_slots", "id", "job_ids", "labels", "last_seen_time", "slots", "state"]
    class LabelsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    AGENT_SUPPORT_FIELD_NUMBER: _ClassVar[int]
    AGENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    CONNECT_TIME_FIELD_NUMBER: _ClassVar[int]
    FREE_SLOTS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_TIME_FIELD_NUMBER: _ClassVar[int]
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    agent_support: AgentSupport
    agent_version: str
    connect_time: _timestamp_pb2.Timestamp
    free_slots: int
    id: str
    job_ids: _containers.RepeatedScalarFieldContainer[str]
    labels: _containers.ScalarMap[str, str]
    last_seen_time: _timestamp_pb2.Timestamp
    slots: int
    state: FactoryState
    def __init__(self, id: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., slots: _Optional[int] = ..., free_slots: _Optional[int] = ..., agent_version: _Optional[str] = ..., state: _Optional[_Union[FactoryState, str]] = ..., connect_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., last_seen_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., job_ids: _Optional[_Iterable[str]] = ..., agent_support: _Optional[_Union[AgentSupport, str]] = ...) -> None: ...

class FactoryState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class AgentSupport(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
