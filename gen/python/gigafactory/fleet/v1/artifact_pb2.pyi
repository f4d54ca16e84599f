from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

ARTIFACT_KIND_ARTIFACT: ArtifactKind
ARTIFACT_KIND_CHECKPOINT: ArtifactKind
ARTIFACT_KIND_UNSPECIFIED: ArtifactKind
DESCRIPTOR: _descriptor.FileDescriptor

class Artifact(_message.Message):
    __slots__ = ["content_type", "create_time", "epoch", "factory_id", "job_id", "kind", "name", "product_id", "sha256", "size_bytes"]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    FACTORY_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    content_type: str
    create_time: _timestamp_pb2.Timestamp
    epoch: int
    factory_id: str
    job_id: str
    kind: ArtifactKind
    name: str
    product_id: str
    sha256: str
    size_bytes: int
    def __init__(self, job_id: _Optional[str] = ..., epoch: _Optional[int] = ..., kind: _Optional[_Union[ArtifactKind, str]] = ..., name: _Optional[str] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., content_type: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., product_id: _Optional[str] = ..., factory_id: _Optional[str] = ...) -> None: ...

class ArtifactRetention(_message.Message):
    __slots__ = ["max_age", "max_total_bytes"]
    MAX_AGE_FIELD_NUMBER: _ClassVar[int]
    MAX_TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    max_age: _duration_pb2.Duration
    max_total_bytes: int
    def __init__(self, max_age: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., max_total_bytes: _Optional[int] = ...) -> None: ...

class ArtifactKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
