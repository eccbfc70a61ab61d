"""list_summary's aggregation: hour buckets, region, codec, definition, counts and output minutes."""

from transcoder.models import TaskModel
from transcoder.summary import definition, summarize

HOUR = 1_795_550_400  # a whole hour


def _task(
    offset: int, status: str, *, codec: str = "h264", dst: tuple[int, int] = (0, 0), **fields: object
) -> TaskModel:
    return TaskModel(
        task_id=f"t{offset}{status}",
        status=status,
        create_time=HOUR + offset,
        region=str(fields.get("region", "us-east-1")),
        template={"vcodec": codec, "resolution": str(fields.get("resolution", "720p"))},
        dst_width=dst[0],
        dst_height=dst[1],
        duration=float(fields.get("duration", 0)),  # type: ignore[arg-type]
        cost=float(fields.get("cost", 0)),  # type: ignore[arg-type]
        input="s3://b/k",
        output="o",
        objkey="o.mp4",
        bucket="b",
        template_id="t",
        template_name="n",
    )


def test_definitions() -> None:
    assert [definition(s) for s in (None, 0, 360, 719, 720, 1080, 1440, 2159, 2160, 4320)] == [
        "unknown", "unknown", "sd", "sd", "hd", "hd", "hd", "hd", "4k", "4k",
    ]  # fmt: skip


def test_buckets_and_sums() -> None:
    rows = summarize(
        [
            _task(10, "success", dst=(1280, 720), duration=90, cost=0.0025),
            _task(20, "success", dst=(1280, 720), duration=30, cost=0.0011),
            _task(30, "fail", cost=0.0001),  # no output: its template's 720p says hd; its cost still counts
            _task(40, "success", dst=(640, 360), duration=60),
            _task(50, "success", codec="h265", dst=(3840, 2160), duration=6),
            _task(3600 + 5, "running", region="eu-west-1", resolution="original"),
        ]
    )
    assert rows == [
        {"hour": HOUR, "region": "us-east-1", "codec": "h264", "definition": "hd", "task_count": 3,
         "success_count": 2, "fail_count": 1, "output_minutes": 2.0, "cost": 0.0037},
        {"hour": HOUR, "region": "us-east-1", "codec": "h264", "definition": "sd", "task_count": 1,
         "success_count": 1, "fail_count": 0, "output_minutes": 1.0, "cost": 0.0},
        {"hour": HOUR, "region": "us-east-1", "codec": "h265", "definition": "4k", "task_count": 1,
         "success_count": 1, "fail_count": 0, "output_minutes": 0.1, "cost": 0.0},
        {"hour": HOUR + 3600, "region": "eu-west-1", "codec": "h264", "definition": "unknown", "task_count": 1,
         "success_count": 0, "fail_count": 0, "output_minutes": 0.0, "cost": 0.0},
    ]  # fmt: skip
