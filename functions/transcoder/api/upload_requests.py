"""create_upload's request body (ext): types and lengths here, the upload rules in transcoder.uploads."""

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr


class CreateUploadRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    filename: StrictStr = Field(
        min_length=1, max_length=255, description="the file's name (one key segment, no folders)"
    )
    size: StrictInt = Field(description="the file's size in bytes: S3 refuses a larger upload")
    content_type: StrictStr = Field(
        min_length=1, max_length=128, description="the file's media type, e.g. video/mp4; S3 refuses another"
    )
