"""The guarded URL fetcher: what it refuses (and that nothing was connected to), redirects,
DNS rebinding, size and type caps. Refusals through the API are 400 invalid_image_url and
charge nothing."""

import pytest

from core.errors import UrlRefused
from core.url_fetch import fetch_public_url
from tests.helpers import assert_envelope, credits_remaining

pytestmark = pytest.mark.django_db


def edit_from(client, url: str):
    return client.post("/api/generate", {"model": "local-img2img", "image_url": url}, format="json")


SSRF_TABLE = [
    ("http://127.0.0.1:{port}/image.png", "loopback"),
    ("http://localhost:{port}/image.png", "loopback"),
    ("http://10.0.0.5:{port}/image.png", "private"),
    ("http://172.16.0.1:{port}/image.png", "private"),
    ("http://192.168.1.10:{port}/image.png", "private"),
    ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
    ("http://[::1]:{port}/image.png", "loopback"),
    ("http://[::ffff:127.0.0.1]:{port}/image.png", "loopback"),
    ("http://0.0.0.0:{port}/image.png", "unspecified"),
    ("http://2130706433:{port}/image.png", "loopback"),
    ("http://0x7f.0.0.1:{port}/image.png", "loopback"),
    ("http://100.64.0.1:{port}/image.png", "carrier-grade NAT"),
    ("http://224.0.0.1:{port}/image.png", "multicast"),
    ("http://internal.example:{port}/image.png", "loopback"),
    ("ftp://127.0.0.1:{port}/image.png", "Only http and https"),
    ("file:///etc/passwd", "Only http and https"),
    ("http://user:secret@cdn.example:{port}/image.png", "credentials"),
]


@pytest.mark.parametrize("template, reason", SSRF_TABLE, ids=[row[0].split("//")[1][:30] for row in SSRF_TABLE])
def test_internal_urls_are_refused_without_connecting(alice, listener, resolver, template, reason):
    # A name that resolves to loopback through the ordinary lookup path.
    resolver.names["internal.example"] = ["127.0.0.1"]
    before = credits_remaining(alice)

    body = assert_envelope(edit_from(alice, template.format(port=listener.port)), 400, "invalid_image_url")

    assert reason in body["error"]
    assert reason in body["details"]["image_url"][0]
    assert listener.accepted == 0
    assert credits_remaining(alice) == before
    assert alice.get("/api/generate").json()["pagination"]["total"] == 0


def test_a_public_looking_url_redirecting_to_loopback_is_refused(alice, listener, image_host):
    before = credits_remaining(alice)
    target = f"http://127.0.0.1:{listener.port}/secret"
    body = assert_envelope(edit_from(alice, f"{image_host.base}/redirect?to={target}"), 400, "invalid_image_url")
    assert "loopback" in body["error"]
    assert image_host.requests == [f"/redirect?to={target}"]
    assert listener.accepted == 0
    assert credits_remaining(alice) == before


def test_a_redirect_to_an_allowed_host_is_followed(image_host):
    fetched = fetch_public_url(f"{image_host.base}/redirect?to=/image.png", max_bytes=10**6)
    assert fetched.data == image_host.image
    assert fetched.url == f"{image_host.base}/image.png"


def test_redirects_stop_after_the_limit(image_host, settings):
    settings.ATELIER_URL_FETCH_MAX_REDIRECTS = 3
    with pytest.raises(UrlRefused, match="Too many redirects"):
        fetch_public_url(f"{image_host.base}/loop")
    assert image_host.requests == ["/loop"] * 4


def test_the_connection_goes_to_the_address_that_was_checked(image_host, resolver):
    # DNS rebinding: the first answer is the one checked; a later one points inside. The fetch
    # resolves once and connects to the first answer.
    resolver.names["cdn.example"] = ["127.0.0.1", "10.0.0.1"]
    fetched = fetch_public_url(f"{image_host.base}/image.png")
    assert fetched.data == image_host.image
    assert resolver.lookups == ["cdn.example"]


def test_the_allow_list_is_by_name(listener, settings):
    settings.ATELIER_URL_FETCH_ALLOWED_HOSTS = ["cdn.example"]
    with pytest.raises(UrlRefused, match="loopback"):
        fetch_public_url(f"http://127.0.0.1:{listener.port}/")
    assert listener.accepted == 0


def test_size_is_capped_while_streaming(image_host):
    with pytest.raises(UrlRefused, match="larger than 100000 bytes"):
        fetch_public_url(f"{image_host.base}/endless.png", max_bytes=100_000)
    with pytest.raises(UrlRefused, match="larger than 100 bytes"):
        fetch_public_url(f"{image_host.base}/image.png", max_bytes=100)


@pytest.mark.parametrize(
    "path, message",
    [
        ("/page.html", "content type 'text/html'"),
        ("/fake.png", "not a PNG, JPEG"),
        ("/bucket/text", "not a PNG, JPEG"),
        ("/missing.png", "HTTP 404"),
    ],
)
def test_what_is_not_an_image_is_refused(alice, image_host, path, message):
    before = credits_remaining(alice)
    body = assert_envelope(edit_from(alice, f"{image_host.base}{path}"), 400, "invalid_image_url")
    assert message in body["error"]
    assert credits_remaining(alice) == before


def test_an_unresolvable_host_and_a_closed_port_are_refused(resolver, settings, listener):
    with pytest.raises(UrlRefused, match="could not be resolved"):
        fetch_public_url("http://no-such-host.invalid/image.png")
    resolver.names["closed.example"] = ["127.0.0.1"]
    settings.ATELIER_URL_FETCH_ALLOWED_HOSTS = ["closed.example"]
    port = listener.port
    listener.close()
    with pytest.raises(UrlRefused, match="could not be fetched"):
        fetch_public_url(f"http://closed.example:{port}/image.png", timeout=2)


def test_the_listener_does_see_a_connection_the_guard_lets_through(listener, settings):
    # The control for the table above: allow-listed, the same address is connected to.
    settings.ATELIER_URL_FETCH_ALLOWED_HOSTS = [f"127.0.0.1:{listener.port}"]
    with pytest.raises(UrlRefused, match="could not be fetched"):
        fetch_public_url(f"http://127.0.0.1:{listener.port}/image.png", timeout=2)
    assert listener.accepted == 1


def _certificates(tmp_path, name: str):
    """A CA and a server certificate for ``name`` signed by it, as PEM files."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def build(subject, issuer, public_key, signing_key, *, ca: bool, san: str | None = None):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
        return builder.sign(signing_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = build("Test CA", "Test CA", ca_key.public_key(), ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = build(name, "Test CA", key.public_key(), ca_key, ca=False, san=name)
    ca_file, cert_file, key_file = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_file, cert_file, key_file


def test_https_is_pinned_yet_verified_against_the_host_name(image_host, tmp_path, settings, resolver):
    import ssl

    ca_file, cert_file, key_file = _certificates(tmp_path, "cdn.example")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    image_host._server.socket = context.wrap_socket(image_host._server.socket, server_side=True)
    settings.ATELIER_URL_FETCH_CA_BUNDLE = str(ca_file)
    secure = image_host.base.replace("http://", "https://")

    fetched = fetch_public_url(f"{secure}/image.png")

    assert fetched.data == image_host.image
    # The same server under another name does not match its certificate: the check is on the name.
    resolver.names["other.example"] = ["127.0.0.1"]
    settings.ATELIER_URL_FETCH_ALLOWED_HOSTS = ["cdn.example", "other.example"]
    with pytest.raises(UrlRefused, match="could not be fetched"):
        fetch_public_url(secure.replace("cdn.example", "other.example") + "/image.png")


def test_an_untyped_image_from_an_object_store_is_judged_by_its_content(alice, image_host):
    response = edit_from(alice, f"{image_host.base}/bucket/object")
    assert response.status_code == 201, response.content


def test_a_user_over_the_daily_quota_is_refused_before_the_image_is_fetched(alice, image_host, settings):
    settings.ATELIER_QUOTAS_ENABLED = True
    settings.ATELIER_DEFAULT_DAILY_GENERATIONS = 1
    assert edit_from(alice, f"{image_host.base}/image.png").status_code == 201
    assert image_host.requests == ["/image.png"]
    assert_envelope(edit_from(alice, f"{image_host.base}/image.png"), 429, "quota_exceeded")
    assert image_host.requests == ["/image.png"]
