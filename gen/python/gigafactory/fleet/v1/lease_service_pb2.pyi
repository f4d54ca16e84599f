from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CheckRequest(_message.Message):
    __slots__ = ["token"]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    token: str
    def __init__(self, token: _Optional[str] = ...) -> None: ...

class CheckResponse(_message.Message):
    __slots__ = ["claims", "current", "current_epoch", "reason"]
    CLAIMS_FIELD_NUMBER: _ClassVar[int]
    CURRENT_EPOCH_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    claims: LeaseClaims
    current: bool
    current_epoch: int
    reason: str
    def __init__(self, current: bool = ..., reason: _Optional[str] = ..., claims: _Optional[_Union[LeaseClaims, _Mapping]] = ..., current_epoch: _Optional[int] = ...) -> None: ...

class LeaseClaims(_message.Message):
    __slots__ = ["epoch", "expire_time", "factory_id", "job_id", "key_id"]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    FACTORY_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    expire_time: _timestamp_pb2.Timestamp
    factory_id: str
    job_id: str
    key_id: str
    def __init__(self, job_id: _Optional[str] = ..., epoch: _Optional[int] = ..., factory_id: _Optional[str] = ..., expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., key_id: _Optional[str] = ...) -> None: ...

class LeaseKey(_message.Message):
    __slots__ = ["algorithm", "create_time", "key_id", "public_key"]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    algorithm: str
    create_time: _timestamp_pb2.Timestamp
    key_id: str
    public_key: str
    def __init__(self, key_id: _Optional[str] = ..., algorithm: _Optional[str] = ..., public_key: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListLeaseKeysRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListLeaseKeysResponse(_message.Message):
    __slots__ = ["keys"]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[LeaseKey]
    def __init__(self, keys: _Optional[_Iterable[_Union[LeaseKey, _Mapping]]] = ...) -> None: ...
