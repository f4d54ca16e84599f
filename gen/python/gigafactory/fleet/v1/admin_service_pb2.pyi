from gigafactory.fleet.v1 import factory_pb2 as _factory_pb2
from gigafactory.fleet.v1 import job_pb2 as _job_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetScalingSignalRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GetScalingSignalResponse(_message.Message):
    __slots__ = ["compute_time", "demands", "examined_jobs"]
    COMPUTE_TIME_FIELD_NUMBER: _ClassVar[int]
    DEMANDS_FIELD_NUMBER: _ClassVar[int]
    EXAMINED_JOBS_FIELD_NUMBER: _ClassVar[int]
    compute_time: _timestamp_pb2.Timestamp
    demands: _containers.RepeatedCompositeFieldContainer[UnplaceableDemand]
    examined_jobs: int
    def __init__(self, demands: _Optional[_Iterable[_Union[UnplaceableDemand, _Mapping]]] = ..., compute_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., examined_jobs: _Optional[int] = ...) -> None: ...

class ListFactoriesRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListFactoriesResponse(_message.Message):
    __slots__ = ["factories"]
    FACTORIES_FIELD_NUMBER: _ClassVar[int]
    factories: _containers.RepeatedCompositeFieldContainer[_factory_pb2.Factory]
    def __init__(self, factories: _Optional[_Iterable[_Union[_factory_pb2.Factory, _Mapping]]] = ...) -> None: ...

class UnplaceableDemand(_message.Message):
    __slots__ = ["oldest_wait", "queued_jobs", "required_labels", "requirements_key"]
    OLDEST_WAIT_FIELD_NUMBER: _ClassVar[int]
    QUEUED_JOBS_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_LABELS_FIELD_NUMBER: _ClassVar[int]
    REQUIREMENTS_KEY_FIELD_NUMBER: _ClassVar[int]
    oldest_wait: _duration_pb2.Duration
    queued_jobs: int
    required_labels: _containers.RepeatedCompositeFieldContainer[_job_pb2.LabelRequirement]
    requirements_key: str
    def __init__(self, required_labels: _Optional[_Iterable[_Union[_job_pb2.LabelRequirement, _Mapping]]] = ..., requirements_key: _Optional[str] = ..., queued_jobs: _Optional[int] = ..., oldest_wait: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...
