"""A local test CA and signer for content credentials: for ``make run`` and the tests, never for
production (its root is trusted by nobody but the readers told to trust it).

What a C2PA signer certificate must be, or signing refuses it as "the certificate is invalid":
an EC P-256 key signing with ``es256``; KeyUsage digitalSignature; an ExtendedKeyUsage
(emailProtection); SubjectKeyIdentifier and AuthorityKeyIdentifier; not a CA.
"""

import datetime
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The file names under the chosen directory.
CERT_FILE = "signer-chain.pem"
KEY_FILE = "signer-key.pem"
ROOT_FILE = "test-root.pem"


@dataclass(frozen=True)
class LocalSigner:
    cert: Path
    key: Path
    root: Path

    def env_lines(self) -> list[str]:
        return [
            f"ATELIER_C2PA_CERT={self.cert}",
            f"ATELIER_C2PA_KEY={self.key}",
            f"ATELIER_C2PA_TRUST_ANCHORS={self.root}",
        ]


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Atelier (test only)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def local_signer_write(directory: Path, *, days: int = 365, force: bool = False) -> LocalSigner:
    """Writes a root CA and a signer it issued under ``directory``; kept when they are there
    already and still valid a day from now, unless ``force``."""
    directory = Path(directory)
    found = LocalSigner(cert=directory / CERT_FILE, key=directory / KEY_FILE, root=directory / ROOT_FILE)
    if not force and _still_valid(found):
        return found
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=days)

    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name("Atelier test root CA")
    root_ski = x509.SubjectKeyIdentifier.from_public_key(root_key.public_key())
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(root_ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski), critical=False)
        .sign(root_key, hashes.SHA256())
    )

    signer_key = ec.generate_private_key(ec.SECP256R1())
    signer = (
        x509.CertificateBuilder()
        .subject_name(_name("Atelier test signer"))
        .issuer_name(root_name)
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(signer_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski), critical=False)
        .sign(root_key, hashes.SHA256())
    )

    pem = serialization.Encoding.PEM
    # The chain is the signer first, then the certificate that issued it.
    found.cert.write_bytes(signer.public_bytes(pem) + root.public_bytes(pem))
    found.root.write_bytes(root.public_bytes(pem))
    found.key.write_bytes(
        signer_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    found.key.chmod(0o600)
    return found


def _still_valid(found: LocalSigner) -> bool:
    if not (found.cert.is_file() and found.key.is_file() and found.root.is_file()):
        return False
    try:
        certificate = x509.load_pem_x509_certificates(found.cert.read_bytes())[0]
    except ValueError:
        return False
    return certificate.not_valid_after_utc > datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
