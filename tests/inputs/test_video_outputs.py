"""Any provider's video output becomes a video asset measured from the file itself; a video
that cannot be read fails the generation with a refund."""

import pytest
from PIL import Image

from catalog.models import AIModel
from generation import providers
from generation.providers import Provider, ProviderOutput, Submission
from generation.providers.local_video import encode_mp4

pytestmark = pytest.mark.django_db


class VideoProvider(Provider):
    """Answers a clip and claims a wrong size for it, as a hosted API might leave it out."""

    name = "video-test"
    capabilities = frozenset({"text-to-image"})

    def __init__(self, data: bytes) -> None:
        self.data = data

    def is_configured(self) -> bool:
        return True

    def submit(self, job, *, reporter):
        return Submission(outputs=[ProviderOutput(data=self.data, format="mp4", width=0, height=0, type="video")])


@pytest.fixture
def video_provider(db):
    provider = VideoProvider(b"")
    providers.register(provider)
    AIModel.objects.create(id="test/video", name="Test video", provider="video-test", kind="text-to-image")
    yield provider
    providers.unregister(provider.name)


def _generate(client) -> dict:
    response = client.post("/api/generate", {"model": "test/video", "prompt": "x"}, format="json")
    assert response.status_code == 201, response.content
    return client.get(f"/api/generate/{response.json()['generation']['id']}").json()["generation"]


def test_a_provider_video_is_measured_and_thumbnailed(alice, video_provider):
    video_provider.data, _, _ = encode_mp4(Image.new("RGB", (96, 64), (9, 99, 199)), seed=1, num_frames=10, fps=5)
    generation = _generate(alice)
    asset = generation["images"][0]
    assert (asset["type"], asset["width"], asset["height"]) == ("video", 96, 64)
    assert asset["duration"] == pytest.approx(2.0, abs=0.1)
    assert asset["thumbnail_url"]


def test_an_unreadable_video_fails_the_generation_and_refunds_it(alice, video_provider):
    before = alice.get("/api/credits").json()["credits"]["remaining"]
    video_provider.data = b"not a video at all"
    generation = _generate(alice)
    assert generation["status"] == "failed"
    assert "video could not be read" in generation["error"]
    assert alice.get("/api/credits").json()["credits"]["remaining"] == before
    assert alice.get("/api/gallery").json()["pagination"]["total"] == 0
