"""The embedded run's broker: a worker never reads a message that is still being written."""

import os
from queue import Empty

import pytest
from kombu import Connection

from core import broker


@pytest.fixture
def channel(tmp_path):
    folder = tmp_path / "messages"
    folder.mkdir()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder)}
    with Connection("filesystem://localhost/", transport_options=options) as connection:
        yield connection.default_channel


def test_the_filesystem_broker_url_uses_the_atomic_transport(channel):
    assert isinstance(channel, broker.AtomicChannel)


def test_a_message_is_seen_by_a_reader_only_once_it_is_complete(channel, monkeypatch):
    rename = os.replace
    seen_while_writing = []

    def replace(source, target):
        # The message is written but not yet in place: a worker polling now finds nothing.
        with pytest.raises(Empty):
            channel._get("default")
        seen_while_writing.append(os.path.getsize(source))
        rename(source, target)

    monkeypatch.setattr(broker.os, "replace", replace)
    channel._put("default", {"body": "a generation to run"})

    assert seen_while_writing and seen_while_writing[0] > 0
    assert channel._get("default") == {"body": "a generation to run"}
    with pytest.raises(Empty):
        channel._get("default")
