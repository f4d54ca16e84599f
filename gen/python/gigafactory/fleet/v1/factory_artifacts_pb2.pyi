from gigafactory.fleet.v1 import artifact_pb2 as _artifact_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FetchArtifactRequest(_message.Message):
    __slots__ = ["epoch", "factory_id", "job_id", "kind", "name", "offset", "source_epoch", "source_job_id"]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    FACTORY_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    SOURCE_EPOCH_FIELD_NUMBER: _ClassVar[int]
    SOURCE_JOB_ID_FIELD_NUMBER: _ClassVar[int]
    epoch: int
    factory_id: str
    job_id: str
    kind: _artifact_pb2.ArtifactKind
    name: str
    offset: int
    source_epoch: int
    source_job_id: str
    def __init__(self, factory_id: _Optional[str] = ..., job_id: _Optional[str] = ..., epoch: _Optional[int] = ..., source_job_id: _Optional[str] = ..., source_epoch: _Optional[int] = ..., kind: _Optional[_Union[_artifact_pb2.ArtifactKind, str]] = ..., name: _Optional[str] = ..., offset: _Optional[int] = ...) -> None: ...

class FetchArtifactResponse(_message.Message):
    __slots__ = ["artifact", "data", "offset"]
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    artifact: _artifact_pb2.Artifact
    data: bytes
    offset: int
    def __init__(self, artifact: _Optional[_Union[_artifact_pb2.Artifact, _Mapping]] = ..., offset: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class FinishUploadRequest(_message.Message):
    __slots__ = ["upload_id"]
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    upload_id: str
    def __init__(self, upload_id: _Optional[str] = ...) -> None: ...

class FinishUploadResponse(_message.Message):
    __slots__ = ["artifact"]
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    artifact: _artifact_pb2.Artifact
    def __init__(self, artifact: _Optional[_Union[_artifact_pb2.Artifact, _Mapping]] = ...) -> None: ...

class StartUploadRequest(_message.Message):
    __slots__ = ["content_type", "epoch", "factory_id", "job_id", "kind", "name", "sha256", "size_bytes"]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    FACTORY_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    content_type: str
    epoch: int
    factory_id: str
    job_id: str
    kind: _artifact_pb2.ArtifactKind
    name: str
    sha256: str
    size_bytes: int
    def __init__(self, factory_id: _Optional[str] = ..., job_id: _Optional[str] = ..., epoch: _Optional[int] = ..., kind: _Optional[_Union[_artifact_pb2.ArtifactKind, str]] = ..., name: _Optional[str] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., content_type: _Optional[str] = ...) -> None: ...

class StartUploadResponse(_message.Message):
    __slots__ = ["artifact", "committed_bytes", "upload_id"]
    ARTIFACT_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_BYTES_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    artifact: _artifact_pb2.Artifact
    committed_bytes: int
    upload_id: str
    def __init__(self, upload_id: _Optional[str] = ..., committed_bytes: _Optional[int] = ..., artifact: _Optional[_Union[_artifact_pb2.Artifact, _Mapping]] = ...) -> None: ...

class UploadChunksRequest(_message.Message):
    __slots__ = ["data", "offset", "upload_id"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    offset: int
    upload_id: str
    def __init__(self, upload_id: _Optional[str] = ..., offset: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class UploadChunksResponse(_message.Message):
    __slots__ = ["committed_bytes"]
    COMMITTED_BYTES_FIELD_NUMBER: _ClassVar[int]
    committed_bytes: int
    def __init__(self, committed_bytes: _Optional[int] = ...) -> None: ...
