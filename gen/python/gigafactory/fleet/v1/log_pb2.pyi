from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
LOG_STREAM_STDERR: LogStream
LOG_STREAM_STDOUT: LogStream
LOG_STREAM_UNSPECIFIED: LogStream

class LogChunk(_message.Message):
    __slots__ = ["data", "epoch", "job_id", "sequence", "stream", "time"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    STREAM_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    epoch: int
    job_id: str
    sequence: int
    stream: LogStream
    time: _timestamp_pb2.Timestamp
    def __init__(self, job_id: _Optional[str] = ..., epoch: _Optional[int] = ..., sequence: _Optional[int] = ..., stream: _Optional[_Union[LogStream, str]] = ..., data: _Optional[bytes] = ..., time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class LogStream(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
