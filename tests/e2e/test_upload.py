"""Uploads through the real client (``uploadFile`` and the ``Create*MessageByFile`` functions),
image messages carrying the uploaded URL, and that URL serving the very bytes uploaded."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.server import RunningServer, start_server

PICTURE, VOICE, VIDEO, FILE = 102, 103, 104, 105
PART_BYTES = 64 * 1024
FILE_SIZE = 3 * PART_BYTES + 1234  # four parts, the last one short
SDK_UNKNOWN_ERROR = 10005  # what uploadFile answers when any step of the upload failed


def accounts(server: RunningServer, *user_ids: str) -> dict[str, dict[str, Any]]:
    server.register(*user_ids)
    return {u: {"userID": u, "platformID": 5, "token": server.user_token(u)} for u in user_ids}


@pytest.fixture(scope="module")
def upload(tmp_path_factory, jssdk) -> dict[str, Any]:
    """One run of the upload scenario against a server with small parts."""
    with start_server(tmp_path_factory.mktemp("oimws-upload"),
                      env={"OIMWS_UPLOAD_PART_BYTES": str(PART_BYTES)}) as server:
        result = jssdk.run(server, "upload", accounts(server, "alice", "bob"),
                           fileSize=FILE_SIZE)
        result["objects"] = sorted(p.name for p in (server.data_dir / "objects" / "data")
                                   .glob("*/*"))
        return result


def test_upload_file_answers_a_url_of_this_server(upload):
    assert upload["url"].startswith(upload["apiUrl"] + "/object/"), upload["url"]
    assert upload["url"].endswith("/holiday_photo.png"), upload["url"]


def test_the_image_message_carries_the_url_and_it_serves_the_same_bytes(upload):
    assert upload["received"]["contentType"] == PICTURE
    assert upload["received"]["sourceUrl"] == upload["url"]
    served = upload["served"]
    assert served["status"] == 200, served
    assert served["contentType"] == "image/png", served
    assert (served["sha256"], served["size"]) == (upload["uploaded"]["sha256"], FILE_SIZE)


def test_the_snapshot_url_with_its_query_serves_the_picture(upload):
    assert upload["received"]["snapshotUrl"].startswith(upload["url"] + "?type=image")
    assert upload["servedSnapshot"]["status"] == 200
    assert upload["servedSnapshot"]["sha256"] == upload["uploaded"]["sha256"]


@pytest.mark.parametrize(("kind", "content_type"),
                         [("image", PICTURE), ("sound", VOICE), ("video", VIDEO), ("file", FILE)])
def test_create_message_by_file_uploads_and_the_peer_can_fetch_it(upload, kind, content_type):
    sent = upload["byFile"][kind]
    assert sent["contentType"] == content_type
    assert sent["served"]["status"] == 200, sent
    assert sent["served"]["sha256"] == sent["expected"], sent


def test_a_video_message_by_file_uploads_its_snapshot_too(upload):
    video = upload["byFile"]["video"]
    assert video["snapshot"]["status"] == 200
    assert video["snapshot"]["sha256"] == video["expectedSnapshot"]
    assert video["served"]["contentType"] == "video/mp4"


def test_a_refused_content_type_makes_upload_file_fail_with_the_reason(upload):
    refused = upload["refused"]
    assert refused["errCode"] == SDK_UNKNOWN_ERROR, refused
    assert "text/html" in refused["errMsg"], refused
    assert not refused["url"]


def test_objects_are_kept_under_the_data_dir(upload):
    # photo, small image, sound, video, its snapshot, document: each its own object
    assert len(upload["objects"]) == 6, upload["objects"]
    assert "holiday_photo.png" in upload["objects"]
