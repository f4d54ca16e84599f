from gigafactory.fleet.v1 import job_pb2 as _job_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
INGEST_OUTCOME_CREATED: IngestOutcome
INGEST_OUTCOME_INVALID: IngestOutcome
INGEST_OUTCOME_SKIPPED: IngestOutcome
INGEST_OUTCOME_UNCHANGED: IngestOutcome
INGEST_OUTCOME_UNSPECIFIED: IngestOutcome
INGEST_OUTCOME_UPDATED: IngestOutcome

class IngestItemRequest(_message.Message):
    __slots__ = ["dry_run", "item"]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    dry_run: bool
    item: TrackerItem
    def __init__(self, item: _Optional[_Union[TrackerItem, _Mapping]] = ..., dry_run: bool = ...) -> None: ...

class IngestItemResponse(_message.Message):
    __slots__ = ["result"]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: IngestResult
    def __init__(self, result: _Optional[_Union[IngestResult, _Mapping]] = ...) -> None: ...

class IngestItemsRequest(_message.Message):
    __slots__ = ["dry_run", "items"]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    dry_run: bool
    items: _containers.RepeatedCompositeFieldContainer[TrackerItem]
    def __init__(self, items: _Optional[_Iterable[_Union[TrackerItem, _Mapping]]] = ..., dry_run: bool = ...) -> None: ...

class IngestItemsResponse(_message.Message):
    __slots__ = ["results"]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[IngestResult]
    def __init__(self, results: _Optional[_Iterable[_Union[IngestResult, _Mapping]]] = ...) -> None: ...

class IngestResult(_message.Message):
    __slots__ = ["external_id", "job", "outcome", "reason"]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    external_id: str
    job: _job_pb2.Job
    outcome: IngestOutcome
    reason: str
    def __init__(self, external_id: _Optional[str] = ..., outcome: _Optional[_Union[IngestOutcome, str]] = ..., reason: _Optional[str] = ..., job: _Optional[_Union[_job_pb2.Job, _Mapping]] = ...) -> None: ...

class TrackerItem(_message.Message):
    __slots__ = ["command_template", "external_id", "labels", "priority", "product_id", "required_labels", "title", "url"]
    class LabelsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COMMAND_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_LABELS_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    command_template: _containers.RepeatedScalarFieldContainer[str]
    external_id: str
    labels: _containers.ScalarMap[str, str]
    priority: int
    product_id: str
    required_labels: _containers.RepeatedCompositeFieldContainer[_job_pb2.LabelRequirement]
    title: str
    url: str
    def __init__(self, external_id: _Optional[str] = ..., title: _Optional[str] = ..., product_id: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., command_template: _Optional[_Iterable[str]] = ..., url: _Optional[str] = ..., priority: _Optional[int] = ..., required_labels: _Optional[_Iterable[_Union[_job_pb2.LabelRequirement, _Mapping]]] = ...) -> None: ...

class IngestOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
