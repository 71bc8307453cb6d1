"""Configuration read from the environment once per cold start and validated.

Each function loads only the settings it needs; a missing or malformed variable
fails the cold start with a message naming it, never a silent default.
"""

from __future__ import annotations

import functools
import os
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from photoflow.errors import ConfigError
from photoflow.imaging import MODERN_FORMATS, Limits, ModernFormat
from photoflow.imaging.filters import validate_filter_names


def _csv(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


CsvInts = Annotated[tuple[int, ...], BeforeValidator(_csv)]
CsvStrs = Annotated[tuple[str, ...], BeforeValidator(_csv)]


class _EnvModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class StorageConfig(_EnvModel):
    bucket_name: str = Field(alias="BUCKET_NAME", min_length=3)
    table_name: str = Field(alias="TABLE_NAME", min_length=3)


class ImagingConfig(_EnvModel):
    thumbnail_sizes: CsvInts = Field(alias="THUMBNAIL_SIZES", min_length=1)
    filters: CsvStrs = Field(alias="FILTERS", min_length=1)
    filter_max_edge: int = Field(alias="FILTER_MAX_EDGE", gt=0, le=8192)
    max_photo_bytes: int = Field(alias="MAX_PHOTO_BYTES", gt=0)
    max_pixels: int = Field(alias="MAX_PIXELS", gt=0)
    jpeg_quality: int = Field(alias="JPEG_QUALITY", ge=1, le=95)

    def model_post_init(self, _context: Any) -> None:
        if any(size <= 0 for size in self.thumbnail_sizes):
            raise ValueError(f"THUMBNAIL_SIZES must be positive, got {self.thumbnail_sizes}")
        validate_filter_names(self.filters)

    @property
    def limits(self) -> Limits:
        return Limits(max_bytes=self.max_photo_bytes, max_pixels=self.max_pixels)


class ThumbnailConfig(ImagingConfig):
    """The thumbnail step's settings: the imaging ones, and the optional square smart crop."""

    # The side of a square thumbnail cut around the most interesting region; 0: none.
    square_thumbnail_size: int = Field(alias="SQUARE_THUMBNAIL_SIZE", ge=0, le=4096)
    # Each thumbnail size is also encoded in these formats ("webp", "avif"; none: empty).
    modern_formats: CsvStrs = Field(alias="MODERN_FORMATS")
    webp_quality: int = Field(alias="WEBP_QUALITY", ge=1, le=100)
    webp_method: int = Field(alias="WEBP_METHOD", ge=0, le=6)
    avif_quality: int = Field(alias="AVIF_QUALITY", ge=1, le=100)
    avif_speed: int = Field(alias="AVIF_SPEED", ge=0, le=10)

    def model_post_init(self, context: Any) -> None:
        super().model_post_init(context)
        unknown = sorted(set(self.modern_formats) - set(MODERN_FORMATS))
        if unknown:
            raise ValueError(
                f"MODERN_FORMATS may name {', '.join(MODERN_FORMATS)}, got {', '.join(unknown)}"
            )
        if len(set(self.modern_formats)) != len(self.modern_formats):
            raise ValueError(f"MODERN_FORMATS names a format twice: {self.modern_formats}")

    @property
    def modern(self) -> tuple[ModernFormat, ...]:
        """The modern formats' encoders, in the order configured."""
        settings = {
            "webp": (self.webp_quality, self.webp_method),
            "avif": (self.avif_quality, self.avif_speed),
        }
        return tuple(ModernFormat(name, *settings[name]) for name in self.modern_formats)


class MetadataConfig(ImagingConfig):
    """The metadata step's settings: the imaging ones, and whether the location is kept."""

    # Off unless the deployment opts in: where a photo was taken is personal data, and the
    # metadata output is what the record and the notification repeat.
    keep_location: bool = Field(alias="KEEP_LOCATION")


class ApiConfig(_EnvModel):
    direct_upload_max_bytes: int = Field(alias="DIRECT_UPLOAD_MAX_BYTES", gt=0)
    url_expiry_seconds: int = Field(alias="URL_EXPIRY_SECONDS", ge=60, le=3600)
    page_size_max: int = Field(alias="PAGE_SIZE_MAX", ge=1, le=100)
    # The web page's origin: the only one CORS lets read responses (no wildcard, no path).
    allowed_origin: str = Field(
        alias="ALLOWED_ORIGIN", pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$"
    )


class NotificationConfig(_EnvModel):
    topic_arn: str = Field(alias="TOPIC_ARN", pattern=r"^arn:[\w-]+:sns:")


class IdempotencyConfig(_EnvModel):
    table_name: str = Field(alias="IDEMPOTENCY_TABLE_NAME", min_length=3)


class SweepConfig(_EnvModel):
    # A PROCESSING photo older than this has outlived its execution (its TimeoutSeconds).
    stale_after_seconds: int = Field(alias="SWEEP_STALE_AFTER_SECONDS", ge=300)
    # How far back a sweep looks.
    horizon_seconds: int = Field(alias="SWEEP_HORIZON_SECONDS", ge=3600)


class WorkflowConfig(_EnvModel):
    state_machine_arn: str = Field(alias="STATE_MACHINE_ARN", pattern=r"^arn:[\w-]+:states:")
    # How long a started workflow is remembered against redelivered S3 events.
    starts_remembered_seconds: int = Field(alias="STARTS_REMEMBERED_SECONDS", ge=60)


M = TypeVar("M", bound=_EnvModel)


@functools.cache
def load(model: type[M]) -> M:
    """Validate ``model`` from the environment, once per process (one cold start)."""
    try:
        return model.model_validate(dict(os.environ))
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise ConfigError(f"invalid {model.__name__} environment: {problems}") from None
