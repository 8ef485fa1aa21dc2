"""The output store's decisions, with an in-process S3 that fails as S3 can."""

import pytest
from botocore.exceptions import ClientError

from jobsys.output import OutputPage, OutputStore
from jobsys.streams import read_back, stored


class _S3:
    def __init__(self, head_code: str | None):
        self.head_code = head_code
        self.puts: list[str] = []

    def head_object(self, Bucket: str, Key: str) -> dict:
        if self.head_code:
            raise ClientError({"Error": {"Code": self.head_code, "Message": ""}}, "HeadObject")
        return {"ContentLength": 5}

    def put_object(self, Bucket: str, Key: str, Body, ContentType: str) -> dict:
        self.puts.append(Key)
        return {}


class _Logs:
    def get_log_events(self, **_: object) -> dict:
        return {"events": [{"message": "from the stream"}], "nextForwardToken": "t"}


def test_a_dead_runs_stream_is_saved_when_s3_has_no_copy():
    s3 = _S3(head_code="404")
    OutputStore(_Logs(), s3, "group", "bucket").save_captured("job")
    assert s3.puts == ["output/job.log"]


def test_a_copy_the_runner_saved_is_left_as_it_is():
    s3 = _S3(head_code=None)
    OutputStore(_Logs(), s3, "group", "bucket").save_captured("job")
    assert s3.puts == []


@pytest.mark.parametrize("code", ["403", "SlowDown"])
def test_an_answer_that_is_not_404_never_replaces_the_runners_copy(code: str):
    """A 403 (no s3:ListBucket) or a throttle does not say that the copy is missing."""
    s3 = _S3(head_code=code)
    with pytest.raises(ClientError):
        OutputStore(_Logs(), s3, "group", "bucket").save_captured("job")
    assert s3.puts == []


@pytest.mark.parametrize(
    ("line", "stream"),
    [
        ("plain", "stdout"),
        ("plain", "stderr"),
        ("", "stderr"),
        ("\x1fE looks like stderr", "stdout"),
        ("\x1fO looks escaped", "stdout"),
        ("\x1f", "stdout"),
        ("\x1fE", "stderr"),
    ],
)
def test_a_line_keeps_its_stream_and_its_text_whatever_it_holds(line, stream):
    assert read_back(stored(line, stream)) == (stream, line)


def test_a_page_of_one_stream_keeps_the_cursor_and_the_order_of_both():
    written = [("stdout", "importing"), ("stderr", "warning: skipped"), ("stdout", "imported"), ("stderr", "\x1fE")]
    page = OutputPage(lines=[stored(text, stream) for stream, text in written], next_cursor="s3:9", complete=False)
    both = page.of_stream(None)
    assert (both.lines, both.stderr) == (["importing", "warning: skipped", "imported", "\x1fE"], [1, 3])
    errors = page.of_stream("stderr")
    assert (errors.lines, errors.stderr, errors.next_cursor) == (["warning: skipped", "\x1fE"], [0, 1], "s3:9")
    assert page.of_stream("stdout").lines == ["importing", "imported"]
