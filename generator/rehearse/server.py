"""A local S3 (and DynamoDB, STS) for a rehearsal: moto's server mode on 127.0.0.1, on a
free port, started by tfgen and stopped by its own process id."""

from __future__ import annotations

import datetime
import importlib.util
import ipaddress
import os
import shlex
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from .errors import cannot

HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def available() -> bool:
    return importlib.util.find_spec("moto") is not None and importlib.util.find_spec("flask") is not None


def write_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (one day), and its key. The rehearsal
    serves S3 over TLS, as AWS does: Terragrunt's bootstrap gives the state bucket a
    policy that denies requests without TLS."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tfgen rehearsal local S3")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "local-s3.crt", directory / "local-s3.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def install_hint() -> str:
    """How to add moto to the environment tfgen runs in. ``pip install
    'terragrunt-tfgen[rehearse]'`` works as written wherever tfgen is installed, a
    checkout's editable install included: pip takes the installed distribution and adds
    the extra (it would fetch terragrunt-tfgen itself only where it is missing, which
    needs the distribution on PyPI). Named with this interpreter: a pip of another
    environment would install moto where tfgen does not look."""
    pip = f"{shlex.quote(sys.executable)} -m pip"
    return (f"{pip} install 'terragrunt-tfgen[rehearse]' (adds moto to the tfgen installed there, a checkout's "
            f"too); in a checkout of tfgen, the same: {pip} install -e '.[rehearse]'")


class LocalS3:
    """``with LocalS3(directory) as s3: s3.endpoint`` -> ``https://127.0.0.1:PORT``;
    clients trust ``s3.certificate`` (SSL_CERT_FILE for Terragrunt and OpenTofu)."""

    def __init__(self, directory: Path, *, timeout: float = 30.0) -> None:
        self.directory = directory
        self.log = directory / "moto.log"
        self.timeout = timeout
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.certificate = directory / "local-s3.crt"
        self.key = directory / "local-s3.key"

    @property
    def endpoint(self) -> str:
        return f"https://{HOST}:{self.port}"

    def start(self) -> None:
        if not available():
            raise cannot("tfgen rehearse needs moto's server mode for its local S3", install_hint())
        self.certificate, self.key = write_certificate(self.directory)
        key = self.key
        for _attempt in range(3):
            self.port = _free_port()
            with self.log.open("ab") as out:
                self.process = subprocess.Popen(
                    [
                        sys.executable, "-m", "generator.rehearse._local_s3", "-H", HOST, "-p", str(self.port),
                        "--ssl-cert", str(self.certificate), "--ssl-key", str(key),
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env={**_clean_env(), "MOTO_ALLOW_NONEXISTENT_REGION": "false"},
                )
            if self._wait_ready():
                return
            self.stop()
        raise cannot(f"the local S3 (moto) did not start; see {self.log}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.timeout
        context = ssl.create_default_context(cafile=str(self.certificate))
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                url = f"{self.endpoint}/moto-api/data.json"
                with urllib.request.urlopen(url, timeout=2, context=context) as reply:
                    if reply.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        return False

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def __enter__(self) -> LocalS3:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def _clean_env() -> dict[str, str]:
    """The environment without any AWS settings of the user's."""
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
