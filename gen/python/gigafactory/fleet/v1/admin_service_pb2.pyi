from gigafactory.fleet.v1 import artifact_pb2 as _artifact_pb2
from gigafactory.fleet.v1 import budget_pb2 as _budget_pb2
from gigafactory.fleet.v1 import credentials_pb2 as _credentials_pb2
from gigafactory.fleet.v1 import factory_pb2 as _factory_pb2
from gigafactory.fleet.v1 import job_pb2 as _job_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateApiKeyRequest(_message.Message):
    __slots__ = ["name", "role"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    name: str
    role: _credentials_pb2.ApiKeyRole
    def __init__(self, name: _Optional[str] = ..., role: _Optional[_Union[_credentials_pb2.ApiKeyRole, str]] = ...) -> None: ...

class CreateApiKeyResponse(_message.Message):
    __slots__ = ["api_key", "key"]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    api_key: _credentials_pb2.ApiKey
    key: str
    def __init__(self, key: _Optional[str] = ..., api_key: _Optional[_Union[_credentials_pb2.ApiKey, _Mapping]] = ...) -> None: ...

class CreateEnrollmentTokenRequest(_message.Message):
    __slots__ = ["allowed_labels", "allowed_products", "description", "factory_id", "ttl"]
    ALLOWED_LABELS_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_PRODUCTS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    FACTORY_ID_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    allowed_labels: _containers.RepeatedCompositeFieldContainer[_credentials_pb2.LabelGrant]
    allowed_products: _containers.RepeatedScalarFieldContainer[str]
    description: str
    factory_id: str
    ttl: _duration_pb2.Duration
    def __init__(self, ttl: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., allowed_labels: _Optional[_Iterable[_Union[_credentials_pb2.LabelGrant, _Mapping]]] = ..., allowed_products: _Optional[_Iterable[str]] = ..., factory_id: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class CreateEnrollmentTokenResponse(_message.Message):
    __slots__ = ["expire_time", "token", "token_id"]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    expire_time: _timestamp_pb2.Timestamp
    token: str
    token_id: str
    def __init__(self, token: _Optional[str] = ..., token_id: _Optional[str] = ..., expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DispatchRateLimit(_message.Message):
    __slots__ = ["burst", "jobs", "per"]
    BURST_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    PER_FIELD_NUMBER: _ClassVar[int]
    burst: int
    jobs: int
    per: _duration_pb2.Duration
    def __init__(self, jobs: _Optional[int] = ..., per: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., burst: _Optional[int] = ...) -> None: ...

class DrainFactoryRequest(_message.Message):
    __slots__ = ["factory_id", "reason"]
    FACTORY_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    factory_id: str
    reason: str
    def __init__(self, factory_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class DrainFactoryResponse(_message.Message):
    __slots__ = ["factory"]
    FACTORY_FIELD_NUMBER: _ClassVar[int]
    factory: _factory_pb2.Factory
    def __init__(self, factory: _Optional[_Union[_factory_pb2.Factory, _Mapping]] = ...) -> None: ...

class GetCallerRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GetCallerResponse(_message.Message):
    __slots__ = ["development", "name", "required_roles", "role"]
    class RequiredRolesEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _credentials_pb2.ApiKeyRole
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_credentials_pb2.ApiKeyRole, str]] = ...) -> None: ...
    DEVELOPMENT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_ROLES_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    development: bool
    name: str
    required_roles: _containers.ScalarMap[str, _credentials_pb2.ApiKeyRole]
    role: _credentials_pb2.ApiKeyRole
    def __init__(self, name: _Optional[str] = ..., role: _Optional[_Union[_credentials_pb2.ApiKeyRole, str]] = ..., development: bool = ..., required_roles: _Optional[_Mapping[str, _credentials_pb2.ApiKeyRole]] = ...) -> None: ...

class GetProductSettingsRequest(_message.Message):
    __slots__ = ["product_id"]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    product_id: str
    def __init__(self, product_id: _Optional[str] = ...) -> None: ...

class GetProductSettingsResponse(_message.Message):
    __slots__ = ["settings"]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    settings: ProductSettings
    def __init__(self, settings: _Optional[_Union[ProductSettings, _Mapping]] = ...) -> None: ...

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

class ListApiKeysRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListApiKeysResponse(_message.Message):
    __slots__ = ["api_keys"]
    API_KEYS_FIELD_NUMBER: _ClassVar[int]
    api_keys: _containers.RepeatedCompositeFieldContainer[_credentials_pb2.ApiKey]
    def __init__(self, api_keys: _Optional[_Iterable[_Union[_credentials_pb2.ApiKey, _Mapping]]] = ...) -> None: ...

class ListFactoriesRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListFactoriesResponse(_message.Message):
    __slots__ = ["coordinator_version", "factories", "oldest_supported_agent_version"]
    COORDINATOR_VERSION_FIELD_NUMBER: _ClassVar[int]
    FACTORIES_FIELD_NUMBER: _ClassVar[int]
    OLDEST_SUPPORTED_AGENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    coordinator_version: str
    factories: _containers.RepeatedCompositeFieldContainer[_factory_pb2.Factory]
    oldest_supported_agent_version: str
    def __init__(self, factories: _Optional[_Iterable[_Union[_factory_pb2.Factory, _Mapping]]] = ..., coordinator_version: _Optional[str] = ..., oldest_supported_agent_version: _Optional[str] = ...) -> None: ...

class ProductSettings(_message.Message):
    __slots__ = ["artifact_retention", "dispatch_rate_limit", "effective_weights", "product_id", "review_policy", "revision", "share_weight", "update_actor", "weight_overrides"]
    ARTIFACT_RETENTION_FIELD_NUMBER: _ClassVar[int]
    DISPATCH_RATE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    REVIEW_POLICY_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SHARE_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_ACTOR_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    artifact_retention: _artifact_pb2.ArtifactRetention
    dispatch_rate_limit: DispatchRateLimit
    effective_weights: _job_pb2.ScoringWeights
    product_id: str
    review_policy: ReviewPolicy
    revision: int
    share_weight: float
    update_actor: str
    weight_overrides: _job_pb2.ScoringWeights
    def __init__(self, product_id: _Optional[str] = ..., weight_overrides: _Optional[_Union[_job_pb2.ScoringWeights, _Mapping]] = ..., effective_weights: _Optional[_Union[_job_pb2.ScoringWeights, _Mapping]] = ..., share_weight: _Optional[float] = ..., revision: _Optional[int] = ..., update_actor: _Optional[str] = ..., dispatch_rate_limit: _Optional[_Union[DispatchRateLimit, _Mapping]] = ..., review_policy: _Optional[_Union[ReviewPolicy, _Mapping]] = ..., artifact_retention: _Optional[_Union[_artifact_pb2.ArtifactRetention, _Mapping]] = ...) -> None: ...

class ReviewPolicy(_message.Message):
    __slots__ = ["default_required_approvals", "default_reviewers", "forbid_self_approval", "groups"]
    DEFAULT_REQUIRED_APPROVALS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_REVIEWERS_FIELD_NUMBER: _ClassVar[int]
    FORBID_SELF_APPROVAL_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    default_required_approvals: int
    default_reviewers: _containers.RepeatedScalarFieldContainer[str]
    forbid_self_approval: bool
    groups: _containers.RepeatedCompositeFieldContainer[ReviewerGroup]
    def __init__(self, groups: _Optional[_Iterable[_Union[ReviewerGroup, _Mapping]]] = ..., default_reviewers: _Optional[_Iterable[str]] = ..., default_required_approvals: _Optional[int] = ..., forbid_self_approval: bool = ...) -> None: ...

class ReviewerGroup(_message.Message):
    __slots__ = ["members", "name"]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedScalarFieldContainer[str]
    name: str
    def __init__(self, name: _Optional[str] = ..., members: _Optional[_Iterable[str]] = ...) -> None: ...

class RevokeApiKeyRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class RevokeApiKeyResponse(_message.Message):
    __slots__ = ["api_key"]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    api_key: _credentials_pb2.ApiKey
    def __init__(self, api_key: _Optional[_Union[_credentials_pb2.ApiKey, _Mapping]] = ...) -> None: ...

class RevokeFactoryRequest(_message.Message):
    __slots__ = ["factory_id", "reason"]
    FACTORY_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    factory_id: str
    reason: str
    def __init__(self, factory_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RevokeFactoryResponse(_message.Message):
    __slots__ = ["closed_streams", "revoke_time"]
    CLOSED_STREAMS_FIELD_NUMBER: _ClassVar[int]
    REVOKE_TIME_FIELD_NUMBER: _ClassVar[int]
    closed_streams: int
    revoke_time: _timestamp_pb2.Timestamp
    def __init__(self, closed_streams: _Optional[int] = ..., revoke_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RotateFactoryTokenRequest(_message.Message):
    __slots__ = ["factory_id"]
    FACTORY_ID_FIELD_NUMBER: _ClassVar[int]
    factory_id: str
    def __init__(self, factory_id: _Optional[str] = ...) -> None: ...

class RotateFactoryTokenResponse(_message.Message):
    __slots__ = ["delivered", "factory_token", "previous_token_expire_time"]
    DELIVERED_FIELD_NUMBER: _ClassVar[int]
    FACTORY_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_TOKEN_EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    delivered: bool
    factory_token: str
    previous_token_expire_time: _timestamp_pb2.Timestamp
    def __init__(self, factory_token: _Optional[str] = ..., previous_token_expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., delivered: bool = ...) -> None: ...

class SetProductSettingsRequest(_message.Message):
    __slots__ = ["artifact_retention", "dispatch_rate_limit", "product_id", "review_policy", "share_weight", "weight_overrides"]
    ARTIFACT_RETENTION_FIELD_NUMBER: _ClassVar[int]
    DISPATCH_RATE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_ID_FIELD_NUMBER: _ClassVar[int]
    REVIEW_POLICY_FIELD_NUMBER: _ClassVar[int]
    SHARE_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    artifact_retention: _artifact_pb2.ArtifactRetention
    dispatch_rate_limit: DispatchRateLimit
    product_id: str
    review_policy: ReviewPolicy
    share_weight: float
    weight_overrides: _job_pb2.ScoringWeights
    def __init__(self, product_id: _Optional[str] = ..., weight_overrides: _Optional[_Union[_job_pb2.ScoringWeights, _Mapping]] = ..., share_weight: _Optional[float] = ..., dispatch_rate_limit: _Optional[_Union[DispatchRateLimit, _Mapping]] = ..., review_policy: _Optional[_Union[ReviewPolicy, _Mapping]] = ..., artifact_retention: _Optional[_Union[_artifact_pb2.ArtifactRetention, _Mapping]] = ...) -> None: ...

class SetProductSettingsResponse(_message.Message):
    __slots__ = ["settings"]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    settings: ProductSettings
    def __init__(self, settings: _Optional[_Union[ProductSettings, _Mapping]] = ...) -> None: ...

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
