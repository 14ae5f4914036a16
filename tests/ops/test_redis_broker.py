import pytest

pytestmark = pytest.mark.redis


def test_the_broker_channel_builds_its_command_client_once(settings):
    from config.celery import app

    with app.connection_for_write() as connection:
        assert type(connection.transport).__module__ == "ops.redis_broker"
        channel = connection.default_channel
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second
            assert first.ping()
        given = object()
        with channel.conn_or_acquire(given) as client:
            assert client is given
